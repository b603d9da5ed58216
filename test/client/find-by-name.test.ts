import {describe, expect, it} from 'vitest';
import {KeyChangedError} from '../../source/client/end-to-end.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {accountKeysIn, withAccount} from '../helpers/account.js';
import {logIn, newClient, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';

/** A relay where nobody is everyone's contact, however few they are. */
const communityOff = {limits: {communityMaxUsers: 0}} as const;

describe('finding people by name on a relay without community mode', () => {
	it('alice looks bob up, pins him and writes to him; bob receives it; bob becomes her contact on the relay', async () => {
		const relay = await relayForTest(communityOff);
		const bob = await onlineClient(relay, 'bob');
		const aliceDir = tempDir();
		const alice = newClient(relay, {dataDir: aliceDir});
		const [welcome] = await logIn(alice, 'alice');
		expect(welcome.users).toEqual([]);
		expect(welcome.online).toEqual(['bob']);
		const [id] = alice.lookup(['BOB', 'nobody']);
		const [found] = await next(alice, 'found');
		expect(found).toMatchObject({id, reason: 'user', users: [{username: 'bob', online: true, keyChanged: false}], missing: ['nobody']});
		const received = next(bob, 'message');
		alice.send('bob', 'found you');
		expect((await received)[0]).toMatchObject({from: 'alice', text: 'found you'});
		await alice.close();

		const again = newClient(relay, {dataDir: aliceDir});
		const lookups = record(again, 'found');
		const [back] = await logIn(again, 'alice');
		expect(back.users.map(user => user.username)).toEqual(['bob']);
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(lookups).toEqual([]);
	});
});

describe('an upgraded client', () => {
	/**
	 * What the version 1 client left on disk for alice: these records pinned, and a conversation
	 * (a message sent) with those in `talkedWith`; the others were only listed by the relay. As
	 * imported into her account's database (closed again), where the new client finds them.
	 */
	function pinnedBefore(dataDir: string, fingerprint: string, records: Record<string, ReturnType<typeof publicIdentity>>, talkedWith = Object.keys(records)): void {
		withAccount(dataDir, fingerprint, 'alice', ({contacts}) => {
			contacts.observeAll(Object.entries(records).map(([name, record]) => ({name, record})));
			for (const name of talkedWith) contacts.nextSendCounter(name);
		});
	}

	/** alice's contacts as stored, row by row (her client must be closed). */
	function storedContacts(dataDir: string, fingerprint: string): unknown[] {
		return withAccount(dataDir, fingerprint, 'alice', account => account.database.prepare('SELECT name, contact FROM contacts ORDER BY name').all());
	}

	it('looks up once the pinned people it talked with (not everyone a version 1 relay listed); its pins stay as they were, and the relay lists them from then on', async () => {
		const relay = await relayForTest(communityOff);
		const bobDir = tempDir();
		const carolDir = tempDir();
		const doraDir = tempDir();
		for (const [name, dataDir] of [['bob', bobDir], ['carol', carolDir], ['dora', doraDir]] as const) await (await onlineClient(relay, name, {dataDir})).close();
		const keysOf = (name: string, dataDir: string) => publicIdentity(accountKeysIn(dataDir, relay.fingerprint, name), name);
		const dataDir = tempDir();
		const records = {bob: keysOf('bob', bobDir), carol: keysOf('carol', carolDir), dora: keysOf('dora', doraDir)};
		pinnedBefore(dataDir, relay.fingerprint, records, ['bob', 'carol']);
		const before = storedContacts(dataDir, relay.fingerprint);
		expect(before).toHaveLength(3);

		const alice = newClient(relay, {dataDir});
		const found = record(alice, 'found');
		const [welcome] = await logIn(alice, 'alice');
		// The relay lists nobody yet; the people alice talked with are shown from her own files.
		expect(welcome.users.map(user => user.username)).toEqual(['bob', 'carol']);
		await expect.poll(() => found.length).toBe(1);
		expect(found[0]![0]).toMatchObject({reason: 'carry-over', missing: []});
		expect(found[0]![0].users.map(user => user.username)).toEqual(['bob', 'carol']);
		await alice.close();
		expect(storedContacts(dataDir, relay.fingerprint)).toEqual(before);

		const again = newClient(relay, {dataDir});
		const foundAgain = record(again, 'found');
		const [back] = await logIn(again, 'alice');
		expect(back.users.map(user => user.username)).toEqual(['bob', 'carol']);
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(foundAgain).toEqual([]);
		await again.close();
		expect(storedContacts(dataDir, relay.fingerprint)).toEqual(before);
	});

	it('a pinned contact whose record the relay serves differently is marked changed by the lookup: nothing is sent until /trust', async () => {
		const relay = await relayForTest(communityOff);
		const bob = await onlineClient(relay, 'bob');
		const dataDir = tempDir();
		pinnedBefore(dataDir, relay.fingerprint, {bob: publicIdentity(generateIdentity(), 'bob')});
		const alice = newClient(relay, {dataDir});
		const changed = next(alice, 'contact-updated');
		await logIn(alice, 'alice');
		expect((await changed)[0]).toMatchObject({username: 'bob', keyChanged: true});
		expect(() => alice.send('bob', 'hi')).toThrow(KeyChangedError);
		alice.trust('bob');
		const received = next(bob, 'message');
		alice.send('bob', 'after trust');
		expect((await received)[0].text).toBe('after trust');
	});
});
