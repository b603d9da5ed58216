import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {ContactStore, contactsPath} from '../../source/client/contact-store.js';
import {logIn, meet, newClient, next, onlineClient, record, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {serveUserFrom} from '../helpers/relay-users.js';
import {tempDir} from '../helpers/temp-dir.js';

/** A client of `username` on `dataDir` that records what it is told from before it connects. */
async function login(relay: RelayAddress, username: string, dataDir: string) {
	const client = newClient(relay, {dataDir});
	const messages = record(client, 'message');
	const delivered = record(client, 'delivered');
	const gaps = record(client, 'gap');
	const [welcome] = await logIn(client, username);
	return {client, messages, delivered, gaps, welcome};
}

describe('receipts owed to a contact whose key changed', () => {
	it('wait on disk with the old keys, never reach new ones, and go out when those keys are trusted again', {timeout: 60_000}, async () => {
		const relayDir = tempDir();
		const [aliceDir, bobDir, otherBobDir] = [tempDir(), tempDir(), tempDir()];
		const relay = await relayForTest({dataDir: relayDir});
		const {fingerprint} = relay;
		const aliceContacts = () => new ContactStore(contactsPath(aliceDir, fingerprint, 'alice'));
		const alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await meet(alice, bob);
		await alice.close();
		await expect.poll(() => bob.contacts.find(contact => contact.username === 'alice')?.online).toBe(false);
		const accepted = next(bob, 'accepted');
		const id = bob.send('alice', 'written before the relay swapped my key');
		await accepted;
		await bob.close();
		await relay.close();

		// The relay says bob is someone else; alice's next login still opens bob's text with the old pin.
		serveUserFrom(relayDir, fingerprint, 'bob', otherBobDir);
		const swapped = await relayForTest({dataDir: relayDir});
		const first = await login(swapped, 'alice', aliceDir);
		expect(first.welcome.users).toEqual([expect.objectContaining({username: 'bob', keyChanged: true})]);
		await expect.poll(() => first.messages.map(([message]) => message.id)).toEqual([id]);
		// Nothing goes to a changed contact: the receipt is owed, on disk, and survives a restart.
		await expect.poll(() => aliceContacts().owed('bob')).toEqual([id]);
		await first.client.close();
		const second = await login(swapped, 'alice', aliceDir);
		expect(second.messages).toEqual([]);
		expect(aliceContacts().owed('bob')).toEqual([id]);

		// Trusting other keys: their holder did not write that text, so the receipt is not theirs.
		const otherBob = await login(swapped, 'bob', otherBobDir);
		second.client.trust('bob');
		await meet(second.client, otherBob.client);
		second.client.send('bob', 'to the new key');
		await expect.poll(() => otherBob.messages.map(([message]) => message.text)).toEqual(['to the new key']);
		expect(otherBob.delivered).toEqual([]);
		expect(aliceContacts().owed('bob')).toEqual([]);
		const retired = JSON.parse(readFileSync(contactsPath(aliceDir, fingerprint, 'alice'), 'utf8')).contacts.bob.retired;
		expect(retired).toEqual([expect.objectContaining({owed: [id]})]);
		await second.client.close();
		await otherBob.client.close();
		await swapped.close();

		// The relay serves bob's first keys again; trusted again, they resume their counters and get the receipt.
		serveUserFrom(relayDir, fingerprint, 'bob', bobDir);
		const restored = await relayForTest({dataDir: relayDir});
		const third = await login(restored, 'alice', aliceDir);
		expect(third.welcome.users).toEqual([expect.objectContaining({username: 'bob', keyChanged: true})]);
		third.client.trust('bob');
		const back = await login(restored, 'bob', bobDir);
		await expect.poll(() => back.delivered).toEqual([[{id, by: 'alice'}]]);
		expect(aliceContacts().owed('bob')).toEqual([]);
		expect(back.messages).toEqual([]);
		expect(back.gaps).toEqual([]);
	});
});
