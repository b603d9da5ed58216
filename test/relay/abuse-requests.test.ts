import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {encodeClientHello, newClientHello} from '../../source/net/handshake.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {meet, next, onlineClient, relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';
import {RawPeer} from '../helpers/raw-peer.js';

/** Issue 11: what one request may cost the relay, asserted as counts. */

const codes = (messages: PeerMessage[], code: string) => messages.filter(message => message.type === 'error' && message.code === code).length;

async function bystandersChat(relay: {port: number; fingerprint: string}) {
	const alice = await onlineClient(relay, 'alice');
	const bob = await onlineClient(relay, 'bob');
	await meet(alice, bob);
	const received = next(bob, 'message');
	alice.send('bob', 'still fine');
	expect((await received)[0].text).toBe('still fine');
}

describe('acks (finding 1)', () => {
	it('an ack of numbers never delivered to the session deletes nothing, and 1,024 numbers cost 16 tokens', async () => {
		const relay = await relayForTest();
		const mallory = await loggedInPeer(relay.port, 'mallory');
		const numbers = Array.from({length: 1024}, (_, index) => index + 1);
		// 20 acks in one frame: 16 tokens each of a burst of 200
		mallory.send(...Array.from({length: 20}, () => ({type: 'ack', deliveries: numbers})));
		await expect.poll(() => codes(mallory.messages(), 'rate_limited')).toBeGreaterThanOrEqual(7);
		const taken = relay.stats().ignoredAckNumbers / 1024;
		expect(taken === 12 || taken === 13).toBe(true);
		expect(codes(mallory.messages(), 'rate_limited')).toBe(20 - taken);
		expect(relay.stats()).toMatchObject({ackDeletes: 0, ackedNumbers: 0});
	});

	it("another user's delivery numbers are ignored; the recipient's own ack deletes exactly what it was sent", async () => {
		const relay = await relayForTest();
		const bobKeys = generateIdentity();
		(await loggedInPeer(relay.port, 'bob', {keys: bobKeys})).close();
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('m1', 'bob'), opaqueSend('m2', 'bob'), opaqueSend('m3', 'bob'));
		await expect.poll(() => alice.messages().filter(message => message.type === 'accepted')).toHaveLength(3);
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		await expect.poll(() => bob.messages().filter(message => message.type === 'message')).toHaveLength(3);
		const delivered = bob.messages().flatMap(message => (message.type === 'message' ? [message.delivery as number] : []));
		const guesses = Array.from({length: 1021}, (_, index) => delivered[0]! + 3 + index);
		// mallory acks bob's numbers and more: nothing of bob's is touched
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send({type: 'ack', deliveries: [...delivered, ...guesses]});
		await expect.poll(() => relay.stats().ignoredAckNumbers).toBe(1024);
		expect(relay.stats().ackDeletes).toBe(0);
		// bob's own ack, padded with the same guesses, deletes his three rows and no more; acked again, nothing
		bob.send({type: 'ack', deliveries: [...delivered, ...guesses]});
		await expect.poll(() => relay.stats().ackedNumbers).toBe(3);
		expect(relay.stats()).toMatchObject({ackDeletes: 3, ignoredAckNumbers: 1024 + 1021});
		bob.send({type: 'ack', deliveries: delivered});
		await expect.poll(() => relay.stats().ignoredAckNumbers).toBe(1024 + 1024);
		expect(relay.stats().ackDeletes).toBe(3);
	});
});

describe('before the handshake and the login (findings 2 and 5)', () => {
	it('a first frame is cut at 1 KiB: deeply nested JSON of 256 KiB is refused before it is parsed', async () => {
		const relay = await relayForTest();
		const peer = await RawPeer.open(relay.port);
		peer.write('['.repeat(128 * 1024) + ']'.repeat(128 * 1024) + '\n');
		expect(JSON.parse(await peer.line(0))).toMatchObject({type: 'error', code: 'frame_too_large', message: 'frame exceeds 1024 bytes'});
		await peer.untilClosed();
		await bystandersChat(relay);
	});

	it('a hello padded past 1 KiB is refused; one that fits is answered', async () => {
		const relay = await relayForTest();
		const hello = encodeClientHello(newClientHello(generateRawKeyPair('x25519')));
		const padded = await RawPeer.open(relay.port);
		padded.write(hello.slice(0, -1) + ' '.repeat(1025 - hello.length) + '}\n');
		expect(JSON.parse(await padded.line(0))).toMatchObject({code: 'frame_too_large'});
		const fits = await RawPeer.open(relay.port);
		fits.write(hello.slice(0, -1) + ' '.repeat(1024 - hello.length) + '}\n');
		expect(JSON.parse(await fits.line(0))).toMatchObject({type: 'relay_hello'});
	});

	it('between the handshake and the login a frame holds at most 16 KiB', async () => {
		const relay = await relayForTest();
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		channel.opener.open(await peer.line(1));
		peer.write(channel.sealer.seal(Array.from({length: 600}, (_, nonce) => ({type: 'ping', nonce}))) + '\n');
		await peer.untilClosed();
		const last = channel.opener.open(peer.lines.at(-1)!) as PeerMessage[];
		expect(last.at(-1)).toMatchObject({type: 'error', code: 'frame_too_large'});
	});

	it('a frame that takes longer than partialFrameTimeoutMs to arrive ends the connection', async () => {
		const relay = await relayForTest({limits: {partialFrameTimeoutMs: 300}});
		const mallory = await loggedInPeer(relay.port, 'mallory');
		const trickle = setInterval(() => mallory.peer.socket.destroyed || mallory.peer.write('A'), 20);
		try {
			await mallory.peer.untilClosed(5000);
		} finally {
			clearInterval(trickle);
		}
		expect(mallory.messages().at(-1)).toMatchObject({type: 'error', code: 'idle_timeout', message: expect.stringContaining('frame took more than 300 ms')});
	});
});

describe('rates belong to the account', () => {
	it('logging in again does not refill the rate: the next connection starts where the last stopped', async () => {
		const relay = await relayForTest({limits: {rateBurst: 10, ratePerSecond: 1, rateMaxRefused: 100}});
		const keys = generateIdentity();
		const first = await loggedInPeer(relay.port, 'mallory', {keys, roster: false});
		first.send(...Array.from({length: 12}, (_, nonce) => ({type: 'ping', nonce})));
		await expect.poll(() => codes(first.messages(), 'rate_limited')).toBe(2);
		first.close();
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		// the login took the new connection's own token; the account's bucket is still empty
		const second = await loggedInPeer(relay.port, 'mallory', {keys, roster: false});
		second.send({type: 'ping', nonce: 99});
		await expect.poll(() => codes(second.messages(), 'rate_limited')).toBe(1);
		expect(second.messages().some(message => message.type === 'pong')).toBe(false);
	});
});

describe('names a client sends', () => {
	it('a login name or recipient of more than 256 characters ends the connection before anything folds it', async () => {
		const relay = await relayForTest();
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send({type: 'send', id: 'long', to: 'A'.repeat(190_000), kind: 'everyone', ephemeral: 'A'.repeat(43), body: 'x'});
		await mallory.peer.untilClosed();
		expect(mallory.messages().at(-1)).toMatchObject({type: 'error', code: 'bad_message'});
		await bystandersChat(relay);
	});
});

describe('logins and registrations (findings 3 and 6)', () => {
	const login = async (port: number, username: string, localAddress: string, keys = generateIdentity()) => {
		const peer = await RawPeer.open(port, localAddress);
		const channel = await peer.handshake();
		channel.opener.open(await peer.line(1));
		peer.write(channel.sealer.seal([RawPeer.login(channel, username, keys)]) + '\n');
		const [answer] = channel.opener.open(await peer.line(2)) as PeerMessage[];
		peer.socket.destroy();
		return answer!.type === 'welcome' ? 'welcome' : (answer!.code as string);
	};

	it('one address registers registrationBurstPerAddress names, then hears registration_closed; others and existing accounts are unaffected', async () => {
		const relay = await relayForTest({limits: {registrationBurstPerAddress: 3, registrationsPerHourPerAddress: 1}});
		const keys = generateIdentity();
		const answers = [await login(relay.port, 'spam0', '127.0.0.2', keys)];
		for (let index = 1; index < 6; index++) answers.push(await login(relay.port, `spam${index}`, '127.0.0.2'));
		expect(answers).toEqual(['welcome', 'welcome', 'welcome', 'registration_closed', 'registration_closed', 'registration_closed']);
		expect(relay.stats()).toMatchObject({registrations: 3, registeredUsers: 3, failedLogins: 0});
		// an existing account from the same address still logs in; a new name from elsewhere registers
		expect(await login(relay.port, 'spam0', '127.0.0.2', keys)).toBe('welcome');
		expect(await login(relay.port, 'carol', '127.0.0.3')).toBe('welcome');
	});

	it('at maxRegisteredUsers newcomers hear registration_closed and every existing account still logs in', async () => {
		const relay = await relayForTest({limits: {maxRegisteredUsers: 2}});
		const alice = generateIdentity();
		expect(await login(relay.port, 'alice', '127.0.0.2', alice)).toBe('welcome');
		expect(await login(relay.port, 'bob', '127.0.0.3')).toBe('welcome');
		expect(await login(relay.port, 'carol', '127.0.0.4')).toBe('registration_closed');
		expect(await login(relay.port, 'alice', '127.0.0.2', alice)).toBe('welcome');
		expect(relay.stats().registeredUsers).toBe(2);
	});

	it('the relay-wide registration rate closes registrations for everyone new, not for existing accounts', async () => {
		const relay = await relayForTest({limits: {registrationBurst: 2, registrationsPerHour: 1}});
		const alice = generateIdentity();
		expect(await login(relay.port, 'alice', '127.0.0.2', alice)).toBe('welcome');
		expect(await login(relay.port, 'bob', '127.0.0.3')).toBe('welcome');
		expect(await login(relay.port, 'carol', '127.0.0.4')).toBe('registration_closed');
		expect(await login(relay.port, 'alice', '127.0.0.2', alice)).toBe('welcome');
	});

	it('after failedLoginBurst bad proofs an address gets login_throttled without a signature checked', async () => {
		const relay = await relayForTest({limits: {failedLoginBurst: 3, failedLoginsPerMinute: 1}});
		const peer = await RawPeer.open(relay.port, '127.0.0.2');
		const channel = await peer.handshake();
		channel.opener.open(await peer.line(1));
		// a valid binding, a proof for another connection's transcript
		const bad = () => RawPeer.login({relayIdentity: channel.relayIdentity, transcript: Buffer.alloc(32)}, 'victim');
		peer.write(channel.sealer.seal(Array.from({length: 10}, bad)) + '\n');
		const answers: PeerMessage[] = [];
		for (let line = 2; answers.length < 10; line++) answers.push(...(channel.opener.open(await peer.line(line)) as PeerMessage[]));
		expect(answers.map(answer => answer.code)).toEqual([...Array(3).fill('bad_login'), ...Array(7).fill('login_throttled')]);
		expect(relay.stats()).toMatchObject({failedLogins: 3, refusedLogins: 7});
		// the throttle is the address's: a new connection from it is throttled too; others are not
		expect(await login(relay.port, 'dave', '127.0.0.2')).toBe('login_throttled');
		expect(await login(relay.port, 'dave', '127.0.0.3')).toBe('welcome');
	});

	it('logins with the directory are charged by its pages per address: past the burst, login_throttled', async () => {
		const relay = await relayForTest({limits: {directoryPagesBurst: 2, directoryPagesPerMinute: 1}});
		// one registered user: one page a login
		const answers = [];
		for (let index = 0; index < 4; index++) answers.push(await login(relay.port, `user${index}`, '127.0.0.2'));
		expect(answers).toEqual(['welcome', 'welcome', 'login_throttled', 'login_throttled']);
		expect(await login(relay.port, 'user9', '127.0.0.3')).toBe('welcome');
	});

	it('new connections from one address past handshakeBurst are refused before any handshake work', async () => {
		const relay = await relayForTest({limits: {handshakeBurst: 5, handshakesPerMinute: 1}});
		const answers: string[] = [];
		for (let index = 0; index < 8; index++) {
			const peer = await RawPeer.open(relay.port, '127.0.0.2');
			answers.push(await peer.hello());
			if (answers.at(-1) !== 'relay_hello') answers[answers.length - 1] = (await peer.refusal())!;
			peer.socket.destroy();
		}
		expect(answers).toEqual([...Array(5).fill('relay_hello'), ...Array(3).fill('too_many_connections')]);
		const other = await RawPeer.open(relay.port, '127.0.0.3');
		expect(await other.hello()).toBe('relay_hello');
	});
});
