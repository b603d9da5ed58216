import {sign} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {fromBase64Url, toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {lp, u32be} from '../../source/crypto/length-prefix.js';
import {signPrekey, verifyPrekey} from '../../source/crypto/prekeys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {parseRelayMessage} from '../../source/net/messages.js';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, type PeerMessage} from '../helpers/logged-in-peer.js';
import {answerBeforeLogin} from '../helpers/raw-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

type Peer = Awaited<ReturnType<typeof loggedInPeer>>;

/** A small-order X25519 point (u = 1): every key exchange with it is zero. */
const weakKey = Buffer.alloc(32);
weakKey[0] = 1;

function signed(keys: IdentityKeys, username: string, id: number, key = generateRawKeyPair('x25519').publicRaw) {
	return {id, key: toBase64Url(key), signature: toBase64Url(signPrekey(keys.identity, username, id, key))};
}

/**
 * A signed prekey whose signature is made by hand (signPrekey refuses a weak key): a valid
 * signature by `keys` over the design's signed bytes, so only the key itself can be refused.
 */
function forged(keys: IdentityKeys, username: string, id: number, key: Buffer) {
	const message = Buffer.concat([Buffer.from('im-tui/3 signed prekey'), lp(username), u32be(id), key]);
	return {id, key: toBase64Url(key), signature: toBase64Url(sign(null, message, keys.identity.privateKey))};
}

function oneTime(firstId: number, count: number) {
	return Array.from({length: count}, (_, index) => ({id: firstId + index, key: toBase64Url(generateRawKeyPair('x25519').publicRaw)}));
}

/** Sends a `prekeys` and returns its answer: a prekey_count, or the error (ref null) it got. */
async function upload(peer: Peer, message: object): Promise<PeerMessage> {
	const from = peer.messages().length;
	peer.send({type: 'prekeys', ...message});
	return peer.until(answer => answer.type === 'prekey_count' || (answer.type === 'error' && answer.ref === null), from);
}

/** Sends a `get_bundle` and returns its answer: a bundle, or the error whose ref is its id. */
async function bundle(peer: Peer, id: string, username: string): Promise<PeerMessage> {
	const from = peer.messages().length;
	peer.send({type: 'get_bundle', id, username});
	return peer.until(answer => (answer.type === 'bundle' || answer.type === 'error') && (answer.id === id || answer.ref === id), from);
}

const welcomeOf = (peer: Peer) => peer.messages().find(message => message.type === 'welcome')!;

describe('prekeys and bundles (PROTOCOL.md section 4.4)', () => {
	it('publishes a signed prekey and one-time prekeys, and hands out a bundle that verifies under the owner\'s identity', async () => {
		const relay = await relayForTest();
		const aliceKeys = generateIdentity();
		let alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(welcomeOf(alice).prekeys).toEqual({oneTime: 0, signed: null});
		const spk = signed(aliceKeys, 'alice', 7);
		const pool = oneTime(10, 3);
		expect(await upload(alice, {signed: spk, oneTime: pool})).toEqual({type: 'prekey_count', oneTime: 3, signed: 7});
		// ids already held are ignored; new ones are added
		expect(await upload(alice, {oneTime: [...pool.slice(0, 2), ...oneTime(20, 1)]})).toEqual({type: 'prekey_count', oneTime: 4, signed: 7});
		const bob = await loggedInPeer(relay.port, 'bob');
		const answer = await bundle(bob, 'b1', 'Alice');
		expect(answer).toEqual({type: 'bundle', id: 'b1', username: 'alice', signed: spk, oneTime: pool[0]});
		expect(parseRelayMessage(answer)).toEqual(answer);
		const identity = Buffer.from(aliceKeys.identity.publicRaw);
		expect(verifyPrekey(identity, 'alice', 7, fromBase64Url(spk.key, 32), fromBase64Url(spk.signature, 64))).toBe(true);
		alice.close();
		alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(welcomeOf(alice).prekeys).toEqual({oneTime: 3, signed: 7});
		// a new signed prekey replaces the one held
		const next = signed(aliceKeys, 'alice', 8);
		expect(await upload(alice, {signed: next})).toEqual({type: 'prekey_count', oneTime: 3, signed: 8});
		expect(await bundle(bob, 'b2', 'alice')).toMatchObject({signed: next, oneTime: null});
	});

	it('a one-time prekey is handed out exactly once, however many ask at once; a drained pool still gives the signed prekey', async () => {
		const relay = await relayForTest();
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		const spk = signed(aliceKeys, 'alice', 1);
		expect(await upload(alice, {signed: spk, oneTime: oneTime(0, 3)})).toMatchObject({oneTime: 3});
		const requesters = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map(name => loggedInPeer(relay.port, name)));
		for (const peer of requesters) peer.send({type: 'get_bundle', id: 'race', username: 'alice'});
		const answers = await Promise.all(requesters.map(peer => peer.until(message => message.type === 'bundle')));
		const handed = answers.map(answer => answer.oneTime).filter(key => key !== null) as Array<{id: number}>;
		expect(handed).toHaveLength(3);
		expect(new Set(handed.map(key => key.id))).toEqual(new Set([0, 1, 2]));
		for (const answer of answers) expect(answer.signed).toEqual(spk);
		const late = await loggedInPeer(relay.port, 'late');
		expect(await bundle(late, 'after', 'alice')).toEqual({type: 'bundle', id: 'after', username: 'alice', signed: spk, oneTime: null});
	});

	it('unknown_recipient for a name not registered, no_prekeys for one that never published a signed prekey; not fatal', async () => {
		const relay = await relayForTest();
		const bob = await loggedInPeer(relay.port, 'bob');
		expect(await bundle(bob, 'x', 'nobody')).toMatchObject({type: 'error', code: 'unknown_recipient', fatal: false, ref: 'x'});
		expect(await bundle(bob, 'y', 'not a name')).toMatchObject({type: 'error', code: 'unknown_recipient', fatal: false, ref: 'y'});
		const carol = await loggedInPeer(relay.port, 'carol');
		// one-time prekeys without a signed one are no bundle
		expect(await upload(carol, {oneTime: oneTime(0, 2)})).toEqual({type: 'prekey_count', oneTime: 2, signed: null});
		expect(await bundle(bob, 'z', 'carol')).toMatchObject({type: 'error', code: 'no_prekeys', fatal: false, ref: 'z'});
	});

	it('past the requester\'s bucket, bundle_throttled (ref its id); refilled in time', async () => {
		const clock = {now: 1_000_000};
		const relay = await relayForTest({clock: () => clock.now, limits: {bundleBurst: 2, bundleRatePerMinute: 60}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		await upload(alice, {signed: signed(aliceKeys, 'alice', 1)});
		const bob = await loggedInPeer(relay.port, 'bob');
		expect((await bundle(bob, 'a', 'alice')).type).toBe('bundle');
		// a name that does not exist costs a token too
		expect((await bundle(bob, 'b', 'nobody')).code).toBe('unknown_recipient');
		const refused = await bundle(bob, 'c', 'alice');
		expect(refused).toMatchObject({type: 'error', code: 'bundle_throttled', fatal: false, ref: 'c'});
		expect(refused.message).toMatch(/try again in 1 s/);
		// another requester has its own bucket
		expect((await bundle(alice, 'd', 'alice')).type).toBe('bundle');
		clock.now += 1000;
		expect((await bundle(bob, 'e', 'alice')).type).toBe('bundle');
	});

	it('bundles take no message token, but a flood of refused ones ends the connection with flooding', async () => {
		const relay = await relayForTest({limits: {rateBurst: 5, ratePerSecond: 1, rateMaxRefused: 20, bundleBurst: 10, bundleRatePerMinute: 1}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		await upload(alice, {signed: signed(aliceKeys, 'alice', 1)});
		const bob = await loggedInPeer(relay.port, 'bob');
		// ten bundles in a row, twice the message burst: all answered
		for (let index = 0; index < 10; index++) expect((await bundle(bob, `ok${index}`, 'alice')).type).toBe('bundle');
		const from = bob.messages().length;
		for (let index = 0; index < 40; index++) bob.send({type: 'get_bundle', id: `x${index}`, username: 'alice'});
		const ended = await bob.until(message => message.type === 'error' && message.code === 'flooding', from);
		expect(ended).toMatchObject({fatal: true});
		expect(bob.messages().slice(from).filter(message => message.code === 'bundle_throttled').length).toBeGreaterThanOrEqual(19);
	});

	it('one one-time prekey per requester and target per bundleOneTimeEveryMs; at most maxOneTimeClaimsPerHour per target from everyone', async () => {
		const clock = {now: 1_000_000};
		const relay = await relayForTest({clock: () => clock.now, limits: {maxOneTimeClaimsPerHour: 3}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		await upload(alice, {signed: signed(aliceKeys, 'alice', 1), oneTime: oneTime(0, 50)});
		const bob = await loggedInPeer(relay.port, 'bob');
		expect((await bundle(bob, 'b1', 'alice')).oneTime).toMatchObject({id: 0});
		expect((await bundle(bob, 'b2', 'alice')).oneTime).toBeNull();
		clock.now += 59 * 60 * 1000;
		expect((await bundle(bob, 'b3', 'alice')).oneTime).toBeNull();
		const carol = await loggedInPeer(relay.port, 'carol');
		expect((await bundle(carol, 'c1', 'alice')).oneTime).toMatchObject({id: 1});
		// bob's hour is over; alice's cap of 3 an hour is now spent (one of them refilled meanwhile)
		clock.now += 60 * 1000;
		expect((await bundle(bob, 'b4', 'alice')).oneTime).toMatchObject({id: 2});
		expect((await bundle(bob, 'b5', 'alice')).oneTime).toBeNull();
		const dan = await loggedInPeer(relay.port, 'dan');
		expect((await bundle(dan, 'd1', 'alice')).oneTime).toMatchObject({id: 3});
		const eve = await loggedInPeer(relay.port, 'eve');
		expect(await bundle(eve, 'e1', 'alice')).toMatchObject({type: 'bundle', oneTime: null});
		// the pool was left as it was: 46 keys (an id it holds is ignored)
		expect(await upload(alice, {oneTime: oneTime(49, 1)})).toMatchObject({oneTime: 46});
		clock.now += 20 * 60 * 1000;
		expect((await bundle(eve, 'e2', 'alice')).oneTime).toMatchObject({id: 4});
	});

	it('a bad signature or a small-order key: bad_prekey, not fatal, and nothing of that message is stored', async () => {
		const relay = await relayForTest();
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		const good = signed(aliceKeys, 'alice', 5);
		// the hand-made signature is the real one: for a good key it is exactly what signPrekey makes
		const goodKey = fromBase64Url(good.key, 32);
		expect(forged(aliceKeys, 'alice', 5, goodKey).signature).toBe(good.signature);
		const refusals = [
			{signed: signed(generateIdentity(), 'alice', 5)},
			{signed: signed(aliceKeys, 'bob', 5)},
			{signed: {...signed(aliceKeys, 'alice', 5), id: 6}},
			{signed: forged(aliceKeys, 'alice', 5, weakKey)},
			{signed: good, oneTime: [...oneTime(0, 3), {id: 9, key: toBase64Url(weakKey)}]},
			{signed: {...good, signature: toBase64Url(Buffer.alloc(64))}, oneTime: oneTime(0, 3)},
		];
		for (const message of refusals) {
			expect(await upload(alice, message)).toMatchObject({type: 'error', code: 'bad_prekey', fatal: false, ref: null});
		}
		expect(await upload(alice, {oneTime: oneTime(100, 1)})).toEqual({type: 'prekey_count', oneTime: 1, signed: null});
		expect(await upload(alice, {signed: good})).toEqual({type: 'prekey_count', oneTime: 1, signed: 5});
	});

	it('the pool holds at most maxOneTimePrekeys (100): keys past it are ignored; at most prekeyUploadsPerMinute uploads', async () => {
		const clock = {now: 1_000_000};
		const relay = await relayForTest({clock: () => clock.now, limits: {prekeyUploadsPerMinute: 4}});
		const alice = await loggedInPeer(relay.port, 'alice');
		expect(await upload(alice, {oneTime: oneTime(0, 60)})).toMatchObject({oneTime: 60});
		expect(await upload(alice, {oneTime: oneTime(60, 60)})).toMatchObject({oneTime: 100});
		expect(await upload(alice, {oneTime: oneTime(1000, 100)})).toMatchObject({oneTime: 100});
		expect(await upload(alice, {oneTime: oneTime(2000, 1)})).toMatchObject({oneTime: 100});
		expect(await upload(alice, {oneTime: oneTime(3000, 1)})).toMatchObject({type: 'error', code: 'rate_limited', fatal: false, ref: null});
		clock.now += 15_000;
		expect(await upload(alice, {oneTime: oneTime(4000, 1)})).toMatchObject({type: 'prekey_count', oneTime: 100});
		// the first 100 ids are the ones kept: one of those already held is ignored, one past them too
		clock.now += 15_000;
		expect(await upload(alice, {oneTime: [...oneTime(99, 1), ...oneTime(100, 1)]})).toMatchObject({oneTime: 100});
	});

	it('a claim that leaves the pool under prekeyLowWater sends its owner, when online, a prekey_count', async () => {
		const relay = await relayForTest({limits: {prekeyLowWater: 2}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		await upload(alice, {signed: signed(aliceKeys, 'alice', 3), oneTime: oneTime(0, 3)});
		const pushes = () => alice.messages().filter(message => message.type === 'prekey_count').slice(1);
		const bob = await loggedInPeer(relay.port, 'bob');
		await bundle(bob, 'b', 'alice');
		const carol = await loggedInPeer(relay.port, 'carol');
		await bundle(carol, 'c', 'alice');
		await expect.poll(pushes).toEqual([{type: 'prekey_count', oneTime: 1, signed: 3}]);
		alice.close();
		const dan = await loggedInPeer(relay.port, 'dan');
		expect((await bundle(dan, 'd', 'alice')).oneTime).not.toBeNull();
		const back = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(welcomeOf(back).prekeys).toEqual({oneTime: 0, signed: 3});
	});

	it('on a relay past its community size, a bundle of a name that is not a contact costs a lookup token', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, lookupBurst: 1, lookupsPerHour: 1}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		await upload(alice, {signed: signed(aliceKeys, 'alice', 3)});
		const bob = await loggedInPeer(relay.port, 'bob');
		expect((await bundle(bob, 'a', 'alice')).type).toBe('bundle');
		expect(await bundle(bob, 'b', 'ghost')).toMatchObject({type: 'error', code: 'lookup_throttled', ref: 'b'});
		// her own name is free
		expect((await bundle(alice, 'own', 'alice')).type).toBe('bundle');
	});

	it('malformed prekeys and get_bundle frames are a fatal bad_message; before a login, not_logged_in', async () => {
		const relay = await relayForTest();
		const keys = generateIdentity();
		const frames = [
			{type: 'prekeys'},
			{type: 'prekeys', oneTime: []},
			{type: 'prekeys', oneTime: oneTime(0, 101)},
			{type: 'prekeys', oneTime: [...oneTime(0, 2), ...oneTime(1, 1)]},
			{type: 'prekeys', oneTime: [{id: 2 ** 32, key: toBase64Url(Buffer.alloc(32, 9))}]},
			{type: 'prekeys', signed: {id: 1, key: toBase64Url(Buffer.alloc(32, 9))}},
			{type: 'get_bundle', id: 'has space', username: 'bob'},
			{type: 'get_bundle', id: 'q'},
		];
		for (const frame of frames) {
			const peer = await loggedInPeer(relay.port, 'alice', {keys});
			const from = peer.messages().length;
			peer.send(frame);
			expect(await peer.until(message => message.type === 'error', from)).toMatchObject({code: 'bad_message', fatal: true});
			await peer.peer.untilClosed();
		}
		for (const message of [{type: 'prekeys', oneTime: oneTime(0, 1)}, {type: 'get_bundle', id: 'early', username: 'bob'}]) {
			expect(await answerBeforeLogin(relay.port, message)).toEqual([expect.objectContaining({type: 'error', code: 'not_logged_in', fatal: true})]);
		}
	});
});

describe('the prekey tables', () => {
	it('deleteUser deletes the user\'s prekeys; a claim deletes the one-time key it hands out', () => {
		const store = openSqliteStore(tempDir());
		try {
			const key = (fill: number) => toBase64Url(Buffer.alloc(32, fill));
			store.registerUser({username: 'amy', identity: key(1), x25519: key(2), binding: toBase64Url(Buffer.alloc(64)), registeredAt: 0, confirmed: true});
			const spk = {id: 4, key: key(3), signature: toBase64Url(Buffer.alloc(64, 5))};
			expect(store.savePrekeys('amy', spk, [{id: 2, key: key(6)}, {id: 1, key: key(7)}], 100)).toEqual({oneTime: 2, signed: 4});
			expect(store.claimBundle('amy', false)).toEqual({signed: spk, oneTime: null, remaining: 2});
			expect(store.claimBundle('amy', true)).toEqual({signed: spk, oneTime: {id: 1, key: key(7)}, remaining: 1});
			store.deleteUser('amy');
			expect(store.prekeyCount('amy')).toEqual({oneTime: 0, signed: null});
			expect(store.claimBundle('amy', true)).toBeUndefined();
		} finally {
			store.close();
		}
	});
});
