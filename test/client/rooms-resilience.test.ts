import {randomBytes} from 'node:crypto';
import {describe, expect, it, vi} from 'vitest';
import type {RelayMessage} from '../../source/net/messages.js';
import {onlineClient, record, relayForTest} from '../helpers/chat.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {entryHash, signAccept, signInvite} from '../../source/crypto/room-log.js';
import {roomEntryFromJson} from '../../source/crypto/room-entry-codec.js';
import {inject, join, roomOf, roomWith, tap, textsIn, until} from '../helpers/room-clients.js';
import {tempDir} from '../helpers/temp-dir.js';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {RelayAddress} from '../helpers/chat.js';

async function restarted(relay: RelayAddress, client: ChatClient, dataDir: string): Promise<ChatClient> {
	const name = client.username!;
	await client.close();
	return onlineClient(relay, name, {dataDir});
}

type ChangeFrame = Extract<RelayMessage, {type: 'room_change'}>;

const isRekey = (frame: RelayMessage): frame is ChangeFrame => frame.type === 'room_change' && frame.entry.action === 'rekey';

describe('rooms when things go wrong, with a real relay (design rooms.md)', () => {
	it('a text sealed in an epoch that just ended is refused room_stale, sealed again once the new one is applied, and read', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		let held = true;
		const atBob = tap(bob, frame => held && isRekey(frame));
		const atAlice = record(alice, 'room-message');
		const bobChanges = record(bob, 'room-change');
		alice.rooms.rekey('dev');
		await until(() => atBob.some(isRekey), 'the rekey reached bob, who has not applied it');
		bob.rooms.send('dev', 'sealed in the old epoch');
		await until(() => atBob.some(frame => frame.type === 'error' && frame.code === 'room_stale'), 'the relay said it is stale');
		expect(atAlice).toEqual([]);
		held = false;
		inject(bob, atBob.filter(isRekey));
		await until(() => bobChanges.length === 1, 'bob applied the rekey');
		await until(() => atAlice.length === 1, 'alice read it, sealed again');
		expect(textsIn(atAlice, 'dev')).toEqual(['sealed in the old epoch']);
		const mine = bob.history('#dev', {limit: 5}).at(-1)!;
		expect(mine.text).toBe('sealed in the old epoch');
		expect(['stored', 'delivered']).toContain(mine.delivery?.state);
	});

	it('texts written while no connection takes them wait in the database, and go in order after a restart', async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		let bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await roomWith('dev', alice, [bob]);
		const atAlice = record(alice, 'room-message');
		const texts = ['first', 'second', 'third'];
		for (const text of texts) bob.rooms.send('dev', text);
		// closed in the same turn: nothing went out
		await bob.close();
		await new Promise(resolve => setTimeout(resolve, 50));
		expect(atAlice).toEqual([]);
		bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await until(() => atAlice.length === texts.length, 'alice read them');
		expect(textsIn(atAlice, 'dev')).toEqual(texts);
		expect(bob.history('#dev', {limit: 5}).map(entry => entry.text)).toEqual(texts);
		// the room's last item is bob's own (never sent back to him): after a restart he sends all the same
		const accepted = record(bob, 'room-accepted');
		await until(() => accepted.length === texts.length || bob.history('#dev', {limit: 5}).every(entry => entry.delivery?.state !== 'sending'), 'the relay took them');
		bob = await restarted(relay, bob, bobDir);
		bob.rooms.send('dev', 'after another restart');
		await until(() => atAlice.length === texts.length + 1, 'alice read it');
	});

	it('a text written while my removal of a member is not committed yet waits for it, and goes sealed in the epoch the removal starts', async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		let alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		await roomWith('dev', alice, [bob, carol]);
		const atCarol = tap(carol);
		const atBob = tap(bob);
		const shown = record(carol, 'room-message');
		alice.rooms.kick('dev', 'bob');
		alice.rooms.send('dev', 'not for bob');
		// closed in the same turn: neither went out; both wait in alice's database
		await alice.close();
		alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		await until(() => shown.length === 1, 'carol read it');
		expect(textsIn(shown, 'dev')).toEqual(['not for bob']);
		const removal = atCarol.find((frame): frame is ChangeFrame => frame.type === 'room_change' && frame.entry.action === 'remove')!;
		const message = atCarol.find(frame => frame.type === 'room_message');
		expect(message).toMatchObject({epoch: toBase64Url(entryHash(roomEntryFromJson(removal.entry)))});
		expect(atBob.filter(frame => frame.type === 'room_message')).toEqual([]);
		await alice.close();
	});

	it('a change whose key does not open stalls the room with a warning, until a later new key opens', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		let first = true;
		// the relay damages the key of bob's first rekey
		const atBob = tap(bob, frame => {
			if (!first || !isRekey(frame)) return false;
			first = false;
			return true;
		});
		const warnings = record(bob, 'room-error');
		const rooms = record(bob, 'rooms');
		alice.rooms.rekey('dev');
		await until(() => atBob.some(isRekey), 'the rekey reached bob');
		const damaged = atBob.find(isRekey)!;
		inject(bob, [{...damaged, key: {...damaged.key!, body: `${damaged.key!.body.slice(0, -8)}AAAAAAAA`}}]);
		expect(roomOf(bob, 'dev')).toMatchObject({status: 'stalled', index: 2});
		expect(warnings.map(([warning]) => warning.code)).toEqual(['room_stalled']);
		await until(() => rooms.some(([list]) => list.some(view => view.room === 'dev' && view.status === 'stalled')), 'the list says so');
		expect(() => bob.rooms.send('dev', 'nothing to seal with')).toThrow(/stalled/);
		const rejected = record(bob, 'room-rejected');
		alice.rooms.send('dev', 'unreadable for bob');
		await until(() => rejected.length === 1, 'bob could not read it');
		expect(rejected[0]![0]).toMatchObject({room: 'dev', from: 'alice', code: 'unreadable'});
		// the next new key opens: bob follows again
		const atBobShown = record(bob, 'room-message');
		alice.rooms.rekey('dev');
		await until(() => roomOf(bob, 'dev')?.status === 'member', 'bob reads the room again');
		alice.rooms.send('dev', 'readable again');
		await until(() => atBobShown.length === 1, 'bob read it');
		expect(textsIn(atBobShown, 'dev')).toEqual(['readable again']);
	});

	it('an invitation to a name nobody has, and the refusals of the relay, are room errors', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		const errors = record(alice, 'room-error');
		alice.rooms.invite('dev', 'nobody');
		await until(() => errors.length === 1, 'the invitation failed');
		expect(errors[0]![0]).toMatchObject({room: 'dev', code: 'unknown_user'});
		const bobErrors = record(bob, 'room-error');
		// bob made #dev too, on this relay where it exists already
		bob.rooms.create('taken');
		alice.rooms.create('taken');
		await until(() => roomOf(alice, 'taken')?.status === 'member' || roomOf(bob, 'taken')?.status === 'member', 'one of them made it');
		await until(() => [...errors, ...bobErrors].some(([error]) => error.code === 'room_exists'), 'the other was refused');
		expect(() => bob.rooms.kick('dev', 'alice')).toThrow(/admin/);
		expect(() => alice.rooms.kick('dev', 'alice')).toThrow(/leave/);
		expect(() => alice.rooms.leave('dev')).toThrow(/only admin/);
		expect(() => alice.rooms.send('nowhere', 'x')).toThrow(/no room #nowhere/);
		expect(() => alice.rooms.create('Not A Room!')).toThrow(/not a room name/);
		expect(() => alice.rooms.create('everyone')).toThrow(/not a room name/);
	});

	it('a declined invitation is told to the inviter; the invitee can be invited again', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		alice.rooms.create('dev');
		await until(() => roomOf(alice, 'dev')?.status === 'member', 'alice made #dev');
		const declined = record(alice, 'room-declined');
		alice.rooms.invite('dev', 'bob');
		await until(() => bob.rooms.invites().length === 1, 'bob was invited');
		expect(bob.rooms.invites()).toEqual([{room: 'dev', from: 'alice', time: expect.any(Number)}]);
		expect(roomOf(bob, 'dev')).toMatchObject({status: 'invited'});
		bob.rooms.decline('dev');
		expect(bob.rooms.invites()).toEqual([]);
		await until(() => declined.length === 1, 'alice was told');
		expect(declined[0]![0]).toEqual({room: 'dev', username: 'bob'});
		await join('dev', alice, bob);
	});

	it("an admin's client makes a new key by itself when the epoch's secret is 7 days old", async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		let alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		const changes = record(bob, 'room-change');
		await alice.close();
		vi.useFakeTimers({toFake: ['Date'], now: Date.now() + 7 * 24 * 3_600_000 + 60_000});
		try {
			alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
			await until(() => changes.some(([change]) => change.action === 'rekey' && change.author === 'alice'), 'alice made a new key');
			await until(() => (roomOf(alice, 'dev')?.epochAge ?? Infinity) < 60_000, "alice's epoch is new");
		} finally {
			vi.useRealTimers();
		}
	});

	it('a join request the relay makes up (an acceptance of an invitation nobody sent) adds nobody', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		const atAlice = tap(alice);
		// "mallory": keys the relay holds, an acceptance it signs itself
		const mallory = generateIdentity();
		const keys = publicIdentity(mallory, 'mallory');
		const nonce = randomBytes(16);
		const changes = record(alice, 'room-change');
		inject(alice, [
			{
				type: 'room_join_request',
				room: 'dev',
				record: {username: 'mallory', identity: toBase64Url(keys.identity), x25519: toBase64Url(keys.x25519), binding: toBase64Url(keys.binding)},
				nonce: toBase64Url(nonce),
				accept: toBase64Url(signAccept({room: 'dev', member: 'mallory', nonce}, mallory.identity.privateKey)),
			},
		]);
		await new Promise(resolve => setTimeout(resolve, 300));
		expect(changes).toEqual([]);
		expect(atAlice.filter(frame => frame.type === 'room_change')).toEqual([]);
		expect(roomOf(alice, 'dev')?.members.map(member => member.username)).toEqual(['alice', 'bob']);
		// an invitation alice did send is still taken
		const carol = await onlineClient(relay, 'carol');
		await join('dev', alice, carol);
		expect(roomOf(alice, 'dev')?.members.map(member => member.username)).toEqual(['alice', 'bob', 'carol']);
	});

	it("a record in a room that differs from the pinned one is a warning, and that member's room messages are refused", async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		// the relay hands bob an invitation from "alice" with other keys
		const forged = generateIdentity();
		const keys = publicIdentity(forged, 'alice');
		const nonce = randomBytes(16);
		const invites = record(bob, 'room-invite');
		const warnings = record(bob, 'room-error');
		inject(bob, [
			{
				type: 'room_invitation',
				room: 'elsewhere',
				from: {username: 'alice', identity: toBase64Url(keys.identity), x25519: toBase64Url(keys.x25519), binding: toBase64Url(keys.binding)},
				nonce: toBase64Url(nonce),
				signature: toBase64Url(signInvite({room: 'elsewhere', inviter: 'alice', invitee: 'bob', nonce}, forged.identity.privateKey)),
				time: Date.now(),
			},
		]);
		expect(invites).toEqual([]);
		expect(warnings.map(([warning]) => [warning.room, warning.code])).toEqual([['elsewhere', 'key_changed']]);
		expect(bob.contacts.find(contact => contact.username === 'alice')?.keyChanged).toBe(true);
		const rejected = record(bob, 'room-rejected');
		const shown = record(bob, 'room-message');
		alice.rooms.send('dev', 'from the real alice');
		await until(() => rejected.length === 1, 'bob refused it');
		expect(rejected[0]![0]).toMatchObject({room: 'dev', from: 'alice', code: 'key_changed'});
		expect(shown).toEqual([]);
	});
});
