import {Buffer} from 'node:buffer';
import {createHash, createHmac, diffieHellman, hkdfSync, verify} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contactStoreIn} from './helpers/account.js';
import {EndToEnd} from '../source/client/end-to-end.js';
import {fromBase64Url, fromBase64UrlPadded, toBase64Url, toBase64UrlPadded} from '../source/crypto/base64url.js';
import {EnvelopeError, openEnvelope, sealEnvelope, type EnvelopeKind} from '../source/crypto/envelope.js';
import {Fernet} from '../source/crypto/fernet.js';
import {loginProof, publicIdentity, verifyBinding, verifyLoginProof, type IdentityKeys} from '../source/crypto/identity.js';
import {formatKey} from '../source/crypto/keys.js';
import {lp} from '../source/crypto/length-prefix.js';
import {keyPairFromPrivate, publicKeyFromRaw} from '../source/crypto/raw-keys.js';
import {safetyNumber} from '../source/crypto/safety-number.js';
import {encodePayload} from '../source/net/e2e-payload.js';
import {
	deriveSessionKeys,
	encodeClientHello,
	encodeRelayHello,
	newClientHello,
	parseClientHello,
	parseRelayHello,
	signTranscript,
	transcriptHash,
	verifyTranscript,
} from '../source/net/handshake.js';
import {parseClientMessage, parseRelayMessage, type ClientMessage, type RelayMessage, type UserRecord} from '../source/net/messages.js';
import {FrameOpener, FrameSealer} from '../source/net/secure-channel.js';
import {checkLogin} from '../source/relay/login-check.js';
import {RelayCore} from '../source/relay/relay-core.js';
import {defaultRelayLimits} from '../source/relay/relay-options.js';
import {openSqliteStore} from '../source/relay/sqlite-store.js';
import {RawPeer} from './helpers/raw-peer.js';
import {tempDir} from './helpers/temp-dir.js';

/** Reads the `name: value` lines (indented lines continue a value) of the fenced blocks in section 8. */
function exampleValues(markdown: string): Record<string, string> {
	const start = markdown.indexOf('\n## 8. Worked example\n');
	if (start === -1) throw new Error('PROTOCOL.md has no "## 8. Worked example"');
	const rest = markdown.slice(start + 1);
	const end = rest.indexOf('\n## ');
	const section = end === -1 ? rest : rest.slice(0, end);
	const values: Record<string, string> = {};
	for (const [, block] of section.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)) {
		let current: string | undefined;
		for (const line of block!.split('\n')) {
			const field = /^([A-Za-z0-9_]+):(.*)$/.exec(line);
			if (field) {
				current = field[1]!;
				if (current in values) throw new Error(`section 8 states ${current} twice`);
				values[current] = field[2]!.trim();
			} else if (current !== undefined && /^\s+\S+$/.test(line)) {
				values[current] += line.trim();
			} else if (line !== '') {
				throw new Error(`section 8 has an unreadable line: ${JSON.stringify(line)}`);
			}
		}
	}
	return values;
}

type Frame = {name: string; iv: Buffer; timestamp: number; messages: object[]};

const run = (first: number, length: number) => Buffer.from(Array.from({length}, (_, index) => first + index));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// Section 8.1: every input that is random in real use.
const clientEphemeralPrivate = run(0x01, 32);
const clientRandom = Buffer.alloc(32, 0xaa);
const relayIdentitySeed = run(0x21, 32);
const relayEphemeralPrivate = run(0x41, 32);
const aliceIdentitySeed = run(0x61, 32);
const aliceX25519Private = run(0x81, 32);
const bobIdentitySeed = run(0xa1, 32);
const bobX25519Private = run(0xc1, 32);
const messageEphemeralPrivate = run(0xe0, 32);
const handshakeTime = 1_767_225_600;
const sendTime = 1_767_225_601;
const sentMs = 1_767_225_601_000;
const relayTimeMs = 1_767_225_601_250;

const identityOf = (seed: Buffer, x25519: Buffer): IdentityKeys => ({
	identity: keyPairFromPrivate('ed25519', seed),
	x25519: keyPairFromPrivate('x25519', x25519),
});

/**
 * Runs alice's login and send through the relay's own core and database, with bob registered and
 * online on a connection of his own, and returns what the relay sends each of them.
 */
async function runRelay(relayIdentity: Buffer, hash: Buffer, bob: IdentityKeys, alice: ClientMessage[], aliceLater: ClientMessage[]) {
	const store = openSqliteStore(tempDir('im-tui-protocol-example-'));
	const core = new RelayCore(
		{
			motd: null,
			limits: defaultRelayLimits,
			relayIdentity,
			clock: () => relayTimeMs,
			log: () => {},
		},
		store,
	);
	const connect = (transcript: Buffer) => {
		const received: RelayMessage[] = [];
		const sink = {
			send: (message: RelayMessage) => received.push(message),
			sendJson: (json: string) => received.push(JSON.parse(json) as RelayMessage),
			fail: (code: string) => received.push({type: 'error', code, fatal: true} as unknown as RelayMessage),
			close: () => {},
			whenWritable: (callback: () => void) => callback(),
			hasRoom: () => true,
		};
		return {session: core.openSession(sink, {remote: 'example', address: {host: 'example'}, transcriptHash: transcript}), received};
	};
	// Bob's own connection: its transcript hash is not part of the example.
	const bobHash = Buffer.alloc(32, 0xbb);
	const bobSide = connect(bobHash);
	bobSide.session.handle(RawPeer.login({relayIdentity, transcript: bobHash}, 'bob', bob));
	const bobBefore = bobSide.received.length;
	const aliceSide = connect(hash);
	for (const message of alice) aliceSide.session.handle(message);
	// Bob is online: the relay forwards at once and answers alice when bob acknowledges.
	for (const message of bobSide.received.slice(bobBefore)) {
		if (message.type === 'message') bobSide.session.handle({type: 'ack', deliveries: [message.delivery]});
	}
	await new Promise(resolve => setImmediate(resolve));
	for (const message of aliceLater) aliceSide.session.handle(message);
	core.stop();
	store.close();
	return {alice: aliceSide.received, bob: bobSide.received.slice(bobBefore)};
}

function sealAll(key: Buffer, frames: Frame[]): Record<string, string> {
	const ivs = frames.map(frame => frame.iv).values();
	const times = frames.map(frame => frame.timestamp).values();
	const sealer = new FrameSealer(key, {iv: () => ivs.next().value!, now: () => times.next().value!});
	const fernet = new Fernet(key);
	const values: Record<string, string> = {};
	for (const frame of frames) {
		const token = sealer.seal(frame.messages);
		values[`${frame.name}_iv`] = hex(frame.iv);
		values[`${frame.name}_timestamp`] = String(frame.timestamp);
		values[`${frame.name}_plaintext`] = fernet.decrypt(token).toString('utf8');
		values[`${frame.name}_token`] = token;
	}
	return values;
}

/** A Fernet token split into its parts (section 3). */
function tokenParts(name: string, token: string): Record<string, string> {
	const bytes = fromBase64UrlPadded(token);
	return {
		[`${name}_version`]: hex(bytes.subarray(0, 1)),
		[`${name}_timestamp`]: hex(bytes.subarray(1, 9)),
		[`${name}_iv`]: hex(bytes.subarray(9, 25)),
		[`${name}_ciphertext`]: hex(bytes.subarray(25, -32)),
		[`${name}_hmac`]: hex(bytes.subarray(-32)),
	};
}

const relayToAlice = ['login_request', 'welcome', 'accepted', 'found'];
const relayToBob = ['user_joined', 'message'];

async function computeExample(): Promise<{values: Record<string, string>; relayed: {alice: RelayMessage[]; bob: RelayMessage[]}}> {
	// 8.2 and 8.3: the handshake and the session keys.
	const client = keyPairFromPrivate('x25519', clientEphemeralPrivate);
	const relayIdentity = keyPairFromPrivate('ed25519', relayIdentitySeed);
	const relay = keyPairFromPrivate('x25519', relayEphemeralPrivate);
	const hello = newClientHello(client, clientRandom);
	const hash = transcriptHash(hello, relayIdentity.publicRaw, relay.publicRaw);
	const signature = signTranscript(relayIdentity.privateKey, hash);
	const keys = deriveSessionKeys(client.privateKey, relay.publicRaw, hash);
	const shared = diffieHellman({privateKey: client.privateKey, publicKey: relay.publicKey});

	// 8.4: the users' identities and alice's login on this connection.
	const alice = identityOf(aliceIdentitySeed, aliceX25519Private);
	const bob = identityOf(bobIdentitySeed, bobX25519Private);
	const aliceRecord = publicIdentity(alice, 'alice');
	const bobRecord = publicIdentity(bob, 'bob');
	const login = RawPeer.login({relayIdentity: relayIdentity.publicRaw, transcript: hash}, 'alice', alice);

	// 8.6: one envelope from alice to bob.
	const ephemeral = keyPairFromPrivate('x25519', messageEphemeralPrivate);
	const payload = encodePayload({v: 1, counter: 0, type: 'text', text: 'hello bob', sent: sentMs});
	const envelope = sealEnvelope({
		sender: {name: 'alice', identity: aliceRecord.identity, x25519: aliceRecord.x25519, x25519Secret: alice.x25519.privateKey},
		recipient: {name: 'bob', identity: bobRecord.identity, x25519: bobRecord.x25519},
		id: 'm1',
		kind: 'direct',
		payload,
		ephemeral,
		iv: run(0x30, 16),
		timeSeconds: sendTime,
	});
	const dh1 = diffieHellman({privateKey: ephemeral.privateKey, publicKey: publicKeyFromRaw('x25519', bobRecord.x25519)});
	const dh2 = diffieHellman({privateKey: alice.x25519.privateKey, publicKey: publicKeyFromRaw('x25519', bobRecord.x25519)});
	const info = lp('im-tui/1 message', 'alice', 'bob', aliceRecord.identity, aliceRecord.x25519, bobRecord.identity, bobRecord.x25519, envelope.ephemeral, 'm1', 'direct');
	const ikm = Buffer.concat([dh1, dh2]);
	const messageKey = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
	const send: ClientMessage = {type: 'send', id: 'm1', to: 'bob', kind: 'direct', ephemeral: toBase64Url(envelope.ephemeral), body: envelope.body};

	// 8.5 and 8.7: what the relay's own code sends back, then every frame of this connection.
	// 8.9: alice looks up three names once bob has acknowledged her message.
	const lookup: ClientMessage = {type: 'lookup', id: 'q1', names: ['Bob', 'carol', 'system']};
	const relayed = await runRelay(relayIdentity.publicRaw, hash, bob, [login, send], [lookup]);
	const [loginRequest, welcome, accepted, found] = relayed.alice;
	const [userJoined, delivered] = relayed.bob;
	if (welcome?.type !== 'welcome' || userJoined === undefined || delivered === undefined) {
		throw new Error('the relay did not answer as section 8 expects (see the "relay" test)');
	}
	const relayFrames: Frame[] = [
		{name: 'r2c_0', iv: run(0x00, 16), timestamp: handshakeTime, messages: [loginRequest!]},
		{name: 'r2c_1', iv: run(0x20, 16), timestamp: handshakeTime, messages: [welcome]},
		{name: 'r2c_2', iv: run(0x50, 16), timestamp: sendTime, messages: [accepted!]},
		{name: 'r2c_3', iv: run(0x70, 16), timestamp: sendTime, messages: [found!]},
	];
	const clientFrames: Frame[] = [
		{name: 'c2r_0', iv: run(0x10, 16), timestamp: handshakeTime, messages: [login]},
		{name: 'c2r_1', iv: run(0x40, 16), timestamp: sendTime, messages: [send]},
		{name: 'c2r_2', iv: run(0x60, 16), timestamp: sendTime, messages: [lookup]},
	];
	const frames = {...sealAll(keys.relayToClient, relayFrames), ...sealAll(keys.clientToRelay, clientFrames)};

	// 8.8: the safety number of alice and bob.
	const safetyInput = Buffer.concat([Buffer.from('im-tui/1 safety number'), lp('alice', aliceRecord.identity, 'bob', bobRecord.identity)]);
	const safety = safetyNumber({name: 'alice', identity: aliceRecord.identity}, {name: 'bob', identity: bobRecord.identity});

	const values: Record<string, string> = {
		client_ephemeral_private: hex(clientEphemeralPrivate),
		client_random: hex(clientRandom),
		relay_identity_seed: hex(relayIdentitySeed),
		relay_ephemeral_private: hex(relayEphemeralPrivate),
		alice_identity_seed: hex(aliceIdentitySeed),
		alice_x25519_private: hex(aliceX25519Private),
		bob_identity_seed: hex(bobIdentitySeed),
		bob_x25519_private: hex(bobX25519Private),
		message_ephemeral_private: hex(messageEphemeralPrivate),

		client_ephemeral_public: hex(client.publicRaw),
		relay_identity_public: hex(relayIdentity.publicRaw),
		relay_ephemeral_public: hex(relay.publicRaw),
		client_hello: encodeClientHello(hello),
		transcript: hex(
			Buffer.concat([Buffer.from('im-tui/2 transcript'), client.publicRaw, clientRandom, relayIdentity.publicRaw, relay.publicRaw]),
		),
		H: hex(hash),
		signed_message: hex(Buffer.concat([Buffer.from('im-tui/2 handshake'), hash])),
		signature: hex(signature),
		relay_hello: encodeRelayHello({identity: relayIdentity.publicRaw, ephemeral: relay.publicRaw, signature}),

		Z: hex(shared),
		PRK: hex(createHmac('sha256', hash).update(shared).digest()),
		K_c2r: hex(keys.clientToRelay),
		K_r2c: hex(keys.relayToClient),
		K_c2r_signing: hex(keys.clientToRelay.subarray(0, 16)),
		K_c2r_encryption: hex(keys.clientToRelay.subarray(16)),
		K_r2c_signing: hex(keys.relayToClient.subarray(0, 16)),
		K_r2c_encryption: hex(keys.relayToClient.subarray(16)),
		K_c2r_fernet_key: toBase64UrlPadded(keys.clientToRelay),
		K_r2c_fernet_key: toBase64UrlPadded(keys.relayToClient),

		alice_identity_public: hex(aliceRecord.identity),
		alice_x25519_public: hex(aliceRecord.x25519),
		alice_binding_message: hex(Buffer.concat([Buffer.from('im-tui/1 x25519 binding'), lp('alice'), aliceRecord.x25519])),
		alice_binding: hex(aliceRecord.binding),
		bob_identity_public: hex(bobRecord.identity),
		bob_x25519_public: hex(bobRecord.x25519),
		bob_binding_message: hex(Buffer.concat([Buffer.from('im-tui/1 x25519 binding'), lp('bob'), bobRecord.x25519])),
		bob_binding: hex(bobRecord.binding),
		alice_proof_message: hex(Buffer.concat([Buffer.from('im-tui/2 login'), relayIdentity.publicRaw, hash, lp('alice')])),
		alice_proof: hex(loginProof(alice, relayIdentity.publicRaw, hash, 'alice')),
		alice_login: JSON.stringify(login),

		...frames,
		...tokenParts('r2c_0_token', frames.r2c_0_token!),
		bob_user_record: JSON.stringify(welcome.users[0]),

		message_ephemeral_public: hex(envelope.ephemeral),
		DH1: hex(dh1),
		DH2: hex(dh2),
		message_info: hex(info),
		message_PRK: hex(createHmac('sha256', Buffer.alloc(0)).update(ikm).digest()),
		message_K: hex(messageKey),
		message_fernet_key: toBase64UrlPadded(messageKey),
		payload: payload.toString('utf8'),
		body_iv: hex(run(0x30, 16)),
		body_timestamp: String(sendTime),
		body: envelope.body,
		...tokenParts('body_token', envelope.body),
		send: JSON.stringify(send),

		relay_to_bob_user_joined: JSON.stringify(userJoined),
		relay_to_bob_message: JSON.stringify(delivered),
		receipt_payload: encodePayload({v: 1, counter: 0, type: 'receipt', ids: ['m1']}).toString('utf8'),

		safety_number_input: hex(safetyInput),
		safety_number_hash: hex(createHash('sha256').update(safetyInput).digest()),
		safety_number: safety,
		safety_number_shown: formatKey(safety),
	};
	return {values, relayed};
}

function errorCode(action: () => unknown): unknown {
	try {
		action();
	} catch (error) {
		return (error as {code?: unknown}).code;
	}
	return undefined;
}

const stated = exampleValues(readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8'));
const {values: computed, relayed} = await computeExample();

function text(name: string): string {
	const value = stated[name];
	if (value === undefined) throw new Error(`section 8 does not state ${name}`);
	return value;
}

function bytes(name: string): Buffer {
	const value = text(name);
	if (!/^(?:[0-9a-f]{2})+$/.test(value)) throw new Error(`${name} is not lower-case hex`);
	return Buffer.from(value, 'hex');
}

const json = (name: string) => JSON.parse(text(name)) as Record<string, unknown>;
const b64 = (value: unknown, length: number) => fromBase64Url(value as string, length);

/** A party of the envelope as its peer pins it, from a user record the relay served. */
function pinned(record: UserRecord) {
	return {name: record.username, identity: b64(record.identity, 32), x25519: b64(record.x25519, 32)};
}

describe('PROTOCOL.md section 8, the worked example', () => {
	it('states exactly the values the code computes, no more and no fewer', () => {
		expect(Object.keys(stated).sort()).toEqual(Object.keys(computed).sort());
	});

	it.each(Object.keys(computed))('%s', name => {
		expect(stated[name]).toBe(computed[name]);
	});

	it('hashes the stated transcript to H and signs the stated message', () => {
		expect(hex(createHash('sha256').update(bytes('transcript')).digest())).toBe(text('H'));
		const identity = publicKeyFromRaw('ed25519', bytes('relay_identity_public'));
		expect(verify(null, bytes('signed_message'), identity, bytes('signature'))).toBe(true);
	});

	it('derives each key as HMAC(PRK, info || 0x01)', () => {
		const expand = (info: string) =>
			hex(createHmac('sha256', bytes('PRK')).update(info).update(Buffer.of(1)).digest());
		expect(expand('im-tui/2 client->relay')).toBe(text('K_c2r'));
		expect(expand('im-tui/2 relay->client')).toBe(text('K_r2c'));
	});

	it('lets the relay read client_hello and derive the same keys as the client', () => {
		const hello = parseClientHello(text('client_hello'));
		expect(hex(hello.ephemeral)).toBe(text('client_ephemeral_public'));
		expect(hex(hello.random)).toBe(text('client_random'));
		const relay = keyPairFromPrivate('x25519', bytes('relay_ephemeral_private'));
		const hash = transcriptHash(hello, bytes('relay_identity_public'), relay.publicRaw);
		const keys = deriveSessionKeys(relay.privateKey, hello.ephemeral, hash);
		expect(hex(keys.clientToRelay)).toBe(text('K_c2r'));
		expect(hex(keys.relayToClient)).toBe(text('K_r2c'));
	});

	it('lets the client verify relay_hello against the transcript it computes', () => {
		const hello = parseRelayHello(text('relay_hello'));
		const hash = transcriptHash(parseClientHello(text('client_hello')), hello.identity, hello.ephemeral);
		expect(hex(hash)).toBe(text('H'));
		expect(verifyTranscript(hello.identity, hash, hello.signature)).toBe(true);
		const forged = Buffer.from(hello.signature);
		forged[0]! ^= 1;
		expect(verifyTranscript(hello.identity, hash, forged)).toBe(false);
	});

	it('signs each binding and alice\'s proof with the Ed25519 identity key over the stated bytes', () => {
		for (const user of ['alice', 'bob']) {
			const identity = publicKeyFromRaw('ed25519', bytes(`${user}_identity_public`));
			expect(verify(null, bytes(`${user}_binding_message`), identity, bytes(`${user}_binding`))).toBe(true);
			const record = {identity: bytes(`${user}_identity_public`), x25519: bytes(`${user}_x25519_public`), binding: bytes(`${user}_binding`)};
			expect(verifyBinding(user, record)).toBe(true);
		}
		const identity = bytes('alice_identity_public');
		expect(verify(null, bytes('alice_proof_message'), publicKeyFromRaw('ed25519', identity), bytes('alice_proof'))).toBe(true);
		expect(verifyLoginProof(identity, bytes('alice_proof'), bytes('relay_identity_public'), bytes('H'), 'alice')).toBe(true);
	});

	it("accepts alice's login on this connection only, and registers her name", () => {
		const login = parseClientMessage(json('alice_login'));
		if (login.type !== 'login') throw new Error('alice_login is not a login');
		expect(login.proof).toBe(toBase64Url(bytes('alice_proof')));
		const context = {relayIdentity: bytes('relay_identity_public'), transcriptHash: bytes('H'), registered: () => undefined};
		expect(checkLogin(login, context)).toEqual({ok: true, username: 'alice', register: true});
		const replayed = {...context, transcriptHash: Buffer.alloc(32, 1)};
		expect(checkLogin(login, replayed)).toMatchObject({ok: false, code: 'bad_login'});
		const otherRelay = {...context, relayIdentity: bytes('alice_identity_public')};
		expect(checkLogin(login, otherRelay)).toMatchObject({ok: false, code: 'bad_login'});
	});

	it('shows what the relay sends alice and bob, in this order', () => {
		expect(relayed.alice.map(message => message.type)).toEqual(relayToAlice);
		expect(relayed.bob.map(message => message.type)).toEqual(relayToBob);
		const welcome = parseRelayMessage(JSON.parse(text('r2c_1_plaintext')).msgs[0]);
		expect(welcome).toEqual({type: 'welcome', username: 'alice', users: [json('bob_user_record')], motd: null, online: ['bob'], onlineCount: 2, waiting: 0, prekeys: {oneTime: 0, signed: null}});
		const accepted = parseRelayMessage(JSON.parse(text('r2c_2_plaintext')).msgs[0]);
		const message = parseRelayMessage(json('relay_to_bob_message'));
		expect(accepted).toEqual({type: 'accepted', id: 'm1', to: 'bob', time: message.type === 'message' ? message.time : -1});
	});

	it('opens each token in order and yields the stated messages', () => {
		const client = new FrameOpener(bytes('K_r2c'), 1024);
		for (const name of ['r2c_0', 'r2c_1', 'r2c_2', 'r2c_3']) {
			expect(client.open(text(`${name}_token`)).map(parseRelayMessage)).toEqual(JSON.parse(text(`${name}_plaintext`)).msgs);
		}
		const relay = new FrameOpener(bytes('K_c2r'), 1024);
		for (const name of ['c2r_0', 'c2r_1', 'c2r_2']) {
			expect(relay.open(text(`${name}_token`)).map(parseClientMessage)).toEqual(JSON.parse(text(`${name}_plaintext`)).msgs);
		}
		expect(JSON.parse(text('c2r_0_plaintext')).msgs).toEqual([json('alice_login')]);
		expect(JSON.parse(text('c2r_1_plaintext')).msgs).toEqual([json('send')]);
		expect(JSON.parse(text('c2r_2_plaintext')).msgs).toEqual([{type: 'lookup', id: 'q1', names: ['Bob', 'carol', 'system']}]);
		const found = parseRelayMessage(JSON.parse(text('r2c_3_plaintext')).msgs[0]);
		expect(found).toEqual({type: 'found', id: 'q1', users: [json('bob_user_record')], missing: ['carol', 'system']});
	});

	it('accepts any JSON serialisation of a batch, since the MAC covers only the bytes sent', () => {
		const send = json('send');
		const reordered = `{"body": ${JSON.stringify(send.body)}, "ephemeral": ${JSON.stringify(send.ephemeral)},\n "kind": "direct", "to": "bob", "id": "m1", "type": "send"}`;
		const plaintext = ` {"msgs": [ ${reordered} ],\n "seq": 0, "v": 2}`;
		const token = new Fernet(bytes('K_c2r')).encrypt(plaintext, {iv: bytes('c2r_1_iv'), timeSeconds: sendTime});
		expect(new FrameOpener(bytes('K_c2r'), 1024).open(token).map(parseClientMessage)).toEqual([send]);
	});

	it('keeps the directions apart: the relay-to-client key cannot open a client token', () => {
		const opener = new FrameOpener(bytes('K_r2c'), 1024);
		expect(errorCode(() => opener.open(text('c2r_0_token')))).toBe('bad_token');
	});

	it('derives the message key as HMAC(message_PRK, info || 0x01) and seals the body with it', () => {
		const ikm = Buffer.concat([bytes('DH1'), bytes('DH2')]);
		expect(hex(createHmac('sha256', Buffer.alloc(0)).update(ikm).digest())).toBe(text('message_PRK'));
		// An empty HMAC key and HashLen zero bytes are the same key (RFC 5869 section 2.2).
		expect(hex(createHmac('sha256', Buffer.alloc(32)).update(ikm).digest())).toBe(text('message_PRK'));
		const key = createHmac('sha256', bytes('message_PRK')).update(bytes('message_info')).update(Buffer.of(1)).digest();
		expect(hex(key)).toBe(text('message_K'));
		const fernet = new Fernet(key);
		expect(fernet.decrypt(text('body')).toString('utf8')).toBe(text('payload'));
		expect(fernet.encrypt(text('payload'), {iv: bytes('body_iv'), timeSeconds: Number(text('body_timestamp'))})).toBe(text('body'));
	});

	it('lets bob open what the relay delivers with the keys he pinned for alice, and nothing relabelled', () => {
		const joined = parseRelayMessage(json('relay_to_bob_user_joined'));
		const message = parseRelayMessage(json('relay_to_bob_message'));
		if (joined.type !== 'user_joined' || message.type !== 'message') throw new Error('unexpected relay messages');
		expect(message).toMatchObject({delivery: 1, from: 'alice', to: 'bob', id: 'm1', kind: 'direct', body: text('body')});
		const bob = keyPairFromPrivate('x25519', bytes('bob_x25519_private'));
		const ephemeral = b64(message.ephemeral, 32);
		expect(hex(diffieHellman({privateKey: bob.privateKey, publicKey: publicKeyFromRaw('x25519', ephemeral)}))).toBe(text('DH1'));
		const alice = pinned(joined.user);
		expect(hex(diffieHellman({privateKey: bob.privateKey, publicKey: publicKeyFromRaw('x25519', alice.x25519)}))).toBe(text('DH2'));
		const recipient = {name: 'bob', identity: bytes('bob_identity_public'), x25519: bob.publicRaw, x25519Secret: bob.privateKey};
		const open = (id: string, kind: EnvelopeKind, sender = alice) =>
			openEnvelope({recipient, sender, id, kind, ephemeral, body: message.body}).toString('utf8');
		expect(open('m1', 'direct')).toBe(text('payload'));
		const relabelled = [() => open('m2', 'direct'), () => open('m1', 'everyone'), () => open('m1', 'direct', {...alice, name: 'carol'})];
		for (const attempt of relabelled) expect(errorCode(attempt)).toBe('authentication');
		expect(() => open('m1', 'everyone')).toThrow(EnvelopeError);
	});

	it("is what the clients' end-to-end layer sends and accepts, and bob's receipt is the stated payload", () => {
		const keysOf = (user: string) => identityOf(bytes(`${user}_identity_seed`), bytes(`${user}_x25519_private`));
		const directory = tempDir('im-tui-protocol-example-');
		const clientOf = (user: string) =>
			new EndToEnd(user, keysOf(user), contactStoreIn(join(directory, user)), () => sentMs);
		const alice = clientOf('alice');
		const bob = clientOf('bob');
		const joined = parseRelayMessage(json('relay_to_bob_user_joined'));
		if (joined.type !== 'user_joined') throw new Error('unexpected relay message');
		expect(alice.observeAll([{...json('bob_user_record'), online: true} as UserRecord])).toEqual(['pinned']);
		expect(bob.observeAll([joined.user])).toEqual(['pinned']);
		const aliceSecret = keysOf('alice').x25519;
		const aliceParty = {...pinned(joined.user), x25519Secret: aliceSecret.privateKey};
		const bobParty = pinned(json('bob_user_record') as unknown as UserRecord);

		// Alice's client writes exactly the stated payload for "hello bob" (its ephemeral key and IV are random).
		const sealed = alice.seal('bob', 'direct', 'm1', 'hello bob');
		const bobSecret = keysOf('bob').x25519.privateKey;
		const opened = openEnvelope({recipient: {...bobParty, x25519Secret: bobSecret}, sender: pinned(joined.user), ...sealed, ephemeral: b64(sealed.ephemeral, 32)});
		expect(opened.toString('utf8')).toBe(text('payload'));

		// Bob's client accepts the delivered envelope once, then answers with the stated receipt.
		const message = parseRelayMessage(json('relay_to_bob_message'));
		if (message.type !== 'message') throw new Error('unexpected relay message');
		const {type: _type, ...delivered} = message;
		expect(bob.open(delivered)).toEqual({type: 'text', from: 'alice', id: 'm1', kind: 'direct', text: 'hello bob', sent: sentMs, gap: 0});
		expect(bob.open(delivered)).toMatchObject({type: 'rejected', code: 'replay'});
		const receipt = bob.receipt('alice', ['m1']);
		const receiptPayload = openEnvelope({recipient: aliceParty, sender: bobParty, ...receipt, ephemeral: b64(receipt.ephemeral, 32)});
		expect(receiptPayload.toString('utf8')).toBe(text('receipt_payload'));

		expect(alice.safetyNumber('bob')).toBe(text('safety_number'));
		expect(bob.safetyNumber('alice')).toBe(text('safety_number'));
	});

	it('hashes the stated safety number input, and keeps the first 20 bytes', () => {
		const hash = createHash('sha256').update(bytes('safety_number_input')).digest();
		expect(hex(hash)).toBe(text('safety_number_hash'));
		expect(hex(hash.subarray(0, 20))).toBe(text('safety_number'));
		expect(text('safety_number_shown').replaceAll(' ', '')).toBe(text('safety_number'));
	});
});
