import {describe, expect, it} from 'vitest';
import {withAccount} from '../helpers/account.js';
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
		// alice's account, read between her clients (one that runs has it to itself).
		const aliceOwed = () => withAccount(aliceDir, fingerprint, 'alice', account => account.contacts.owed('bob'));
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
		await first.client.close();
		expect(aliceOwed()).toEqual([id]);
		const second = await login(swapped, 'alice', aliceDir);
		expect(second.messages).toEqual([]);

		// Trusting other keys: their holder did not write that text, so the receipt is not theirs.
		const otherBob = await login(swapped, 'bob', otherBobDir);
		second.client.trust('bob');
		await meet(second.client, otherBob.client);
		second.client.send('bob', 'to the new key');
		await expect.poll(() => otherBob.messages.map(([message]) => message.text)).toEqual(['to the new key']);
		expect(otherBob.delivered).toEqual([]);
		await second.client.close();
		// Owed to bob's first keys, now a retired pin, and not to the keys pinned now.
		expect(aliceOwed()).toEqual([]);
		const stored = withAccount(aliceDir, fingerprint, 'alice', account => account.database.prepare("SELECT contact FROM contacts WHERE name = 'bob'").get()) as {contact: string};
		expect(JSON.parse(stored.contact).retired).toEqual([expect.objectContaining({owed: [id]})]);
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
		expect(back.messages).toEqual([]);
		expect(back.gaps).toEqual([]);
		await third.client.close();
		expect(aliceOwed()).toEqual([]);
	});
});
