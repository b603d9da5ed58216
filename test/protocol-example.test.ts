import {Buffer} from 'node:buffer';
import {createHash, createHmac, diffieHellman, hkdfSync, verify} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ContactStore} from '../source/client/contact-store.js';
import {endToEndFor} from '../source/client/ratchet/account-ratchet.js';
import {openAccountDatabase} from '../source/client/store/account-database.js';
import {fromBase64Url, fromBase64UrlPadded, toBase64Url, toBase64UrlPadded} from '../source/crypto/base64url.js';
import {initRatchetInitiator, initRatchetResponder, parseHeader} from '../source/crypto/double-ratchet.js';
import {EnvelopeError, type EnvelopeKind} from '../source/crypto/envelope.js';
import {Fernet} from '../source/crypto/fernet.js';
import {loginProof, publicIdentity, verifyBinding, verifyLoginProof, type IdentityKeys} from '../source/crypto/identity.js';
import {formatKey} from '../source/crypto/keys.js';
import {lp, u32be} from '../source/crypto/length-prefix.js';
import {signPrekey, verifyPrekey} from '../source/crypto/prekeys.js';
import {openRatchet, sealRatchet} from '../source/crypto/ratchet-envelope.js';
import {keyPairFromPrivate, publicKeyFromRaw} from '../source/crypto/raw-keys.js';
import {safetyNumber} from '../source/crypto/safety-number.js';
import {x3dhInitiate, x3dhRespond} from '../source/crypto/x3dh.js';
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
import {asyncSqliteStore} from '../source/relay/sqlite-async.js';
import {openSqliteStore} from '../source/relay/sqlite-store.js';
import {RawPeer} from './helpers/raw-peer.js';
import {tempDir} from './helpers/temp-dir.js';

/**
 * Reads the `name: value` lines (indented lines continue a value) of the fenced blocks in section 8,
 * up to 8.10 (a room, which test/protocol-example-rooms.test.ts checks).
 */
function exampleValues(markdown: string): Record<string, string> {
	const start = markdown.indexOf('\n## 8. Worked example\n');
	if (start === -1) throw new Error('PROTOCOL.md has no "## 8. Worked example"');
	const rest = markdown.slice(start + 1);
	const rooms = rest.indexOf('\n### 8.10 ');
	const end = rooms === -1 ? rest.indexOf('\n## ') : rooms;
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
const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer | string, length: number) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
const hmac = (key: Buffer, ...data: Buffer[]) => data.reduce((mac, part) => mac.update(part), createHmac('sha256', key)).digest();
const dh = (secret: Buffer, remote: Buffer) =>
	diffieHellman({privateKey: keyPairFromPrivate('x25519', secret).privateKey, publicKey: publicKeyFromRaw('x25519', remote)});

// Section 8.1: every input that is random in real use.
const clientEphemeralPrivate = run(0x01, 32);
const clientRandom = Buffer.alloc(32, 0xaa);
const relayIdentitySeed = run(0x21, 32);
const relayEphemeralPrivate = run(0x41, 32);
const aliceIdentitySeed = run(0x61, 32);
const aliceX25519Private = run(0x81, 32);
const bobIdentitySeed = run(0xa1, 32);
const bobX25519Private = run(0xc1, 32);
// The keys of the version 3 scheme, as in test/crypto/ratchet-example.test.ts: 32 bytes of one value each.
const bobSignedPrekeyPrivate = Buffer.alloc(32, 0x05);
const bobOneTimePrekeyPrivate = Buffer.alloc(32, 0x06);
const aliceBaseKeyPrivate = Buffer.alloc(32, 0x07);
const aliceRatchetPrivate = Buffer.alloc(32, 0x08);
const bobRatchetPrivate = Buffer.alloc(32, 0x09);
const signedPrekeyId = 7;
const oneTimePrekeyId = 41;
const handshakeTime = 1_767_225_600;
const sendTime = 1_767_225_601;
const sentMs = 1_767_225_601_000;
const relayTimeMs = 1_767_225_601_250;

const identityOf = (seed: Buffer, x25519: Buffer): IdentityKeys => ({
	identity: keyPairFromPrivate('ed25519', seed),
	x25519: keyPairFromPrivate('x25519', x25519),
});

/**
 * Runs alice's login, bundle request and send through the relay's own core and database, with bob
 * registered, his prekeys published and online on a connection of his own, and returns what the
 * relay sends each of them.
 */
async function runRelay(relayIdentity: Buffer, hash: Buffer, bob: IdentityKeys, bobPrekeys: ClientMessage, alice: ClientMessage[], aliceLater: ClientMessage[]) {
	const store = asyncSqliteStore(openSqliteStore(tempDir('im-tui-protocol-example-')));
	const core = await RelayCore.open(
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
	await settled();
	const bobLoggedIn = bobSide.received.length;
	bobSide.session.handle(bobPrekeys);
	await settled();
	const bobCounted = bobSide.received.slice(bobLoggedIn);
	const bobBefore = bobSide.received.length;
	const aliceSide = connect(hash);
	for (const message of alice) aliceSide.session.handle(message);
	await settled();
	// Bob is online: the relay forwards at once and answers alice when bob acknowledges.
	for (const message of bobSide.received.slice(bobBefore)) {
		if (message.type === 'message') bobSide.session.handle({type: 'ack', deliveries: [message.delivery]});
	}
	await settled();
	for (const message of aliceLater) aliceSide.session.handle(message);
	await settled();
	await core.stop();
	await store.close();
	return {alice: aliceSide.received, bob: bobSide.received.slice(bobBefore), bobCounted};
}

/** Lets the relay handle what it was given: the store answers at once, commits wait for the end of a turn of the event loop. */
async function settled(): Promise<void> {
	for (let turn = 0; turn < 10; turn++) await new Promise(resolve => setImmediate(resolve));
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

const relayToAlice = ['login_request', 'welcome', 'bundle', 'accepted', 'found'];
const relayToBob = ['prekey_count', 'user_joined', 'message'];
/** The body of alice's envelope and of bob's reply: IVs of their own (section 8.1). */
const bodyIv = run(0x50, 16);
const replyIv = run(0xa0, 16);

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
	const aliceParty = {name: 'alice', identity: aliceRecord.identity, x25519: aliceRecord.x25519};
	const bobParty = {name: 'bob', identity: bobRecord.identity, x25519: bobRecord.x25519};

	// 8.6: bob's prekeys, alice's bundle request, X3DH and her first message.
	const signedPrekey = keyPairFromPrivate('x25519', bobSignedPrekeyPrivate);
	const oneTimePrekey = keyPairFromPrivate('x25519', bobOneTimePrekeyPrivate);
	const signedPrekeyMessage = Buffer.concat([Buffer.from('im-tui/3 signed prekey'), lp('bob'), u32be(signedPrekeyId), signedPrekey.publicRaw]);
	const prekeySignature = signPrekey(bob.identity, 'bob', signedPrekeyId, signedPrekey.publicRaw);
	const bobPrekeys: ClientMessage = {
		type: 'prekeys',
		signed: {id: signedPrekeyId, key: toBase64Url(signedPrekey.publicRaw), signature: toBase64Url(prekeySignature)},
		oneTime: [{id: oneTimePrekeyId, key: toBase64Url(oneTimePrekey.publicRaw)}],
	};
	const getBundle: ClientMessage = {type: 'get_bundle', id: 'b1', username: 'bob'};

	const baseKey = keyPairFromPrivate('x25519', aliceBaseKeyPrivate);
	const started = x3dhInitiate({
		initiator: {...aliceParty, x25519Secret: alice.x25519.privateKey},
		responder: bobParty,
		signed: {id: signedPrekeyId, key: signedPrekey.publicRaw, signature: prekeySignature},
		oneTime: {id: oneTimePrekeyId, key: oneTimePrekey.publicRaw},
		baseKey,
	});
	const x3dh = [
		dh(aliceX25519Private, signedPrekey.publicRaw),
		dh(aliceBaseKeyPrivate, bobRecord.x25519),
		dh(aliceBaseKeyPrivate, signedPrekey.publicRaw),
		dh(aliceBaseKeyPrivate, oneTimePrekey.publicRaw),
	];
	const x3dhIkm = Buffer.concat([Buffer.alloc(32, 0xff), ...x3dh]);
	const x3dhInfo = lp('im-tui/3 x3dh', 'alice', aliceRecord.identity, aliceRecord.x25519, 'bob', bobRecord.identity, bobRecord.x25519, u32be(signedPrekeyId), u32be(oneTimePrekeyId));
	const sk = hkdf(x3dhIkm, Buffer.alloc(32), x3dhInfo, 32);
	if (!sk.equals(started.sharedSecret)) throw new Error('x3dhInitiate does not follow section 14.2');

	const aliceRatchet = keyPairFromPrivate('x25519', aliceRatchetPrivate);
	const aliceState = initRatchetInitiator({sharedSecret: started.sharedSecret, remote: signedPrekey.publicRaw, dhPair: aliceRatchet});
	const ratchetDh = dh(aliceRatchetPrivate, signedPrekey.publicRaw);
	const root = hkdf(ratchetDh, sk, 'im-tui/3 ratchet', 64);
	const sendingChain = root.subarray(32);
	const messageKey = hmac(sendingChain, Buffer.of(1));
	const payload = encodePayload({v: 1, counter: 0, type: 'text', text: 'hello bob', sent: sentMs});
	const first = sealRatchet({
		state: aliceState,
		sender: aliceParty,
		recipient: bobParty,
		baseKey: started.baseKey,
		prekey: {signedId: signedPrekeyId, oneTimeId: oneTimePrekeyId},
		id: 'm1',
		kind: 'direct',
		payload,
		iv: bodyIv,
		timeSeconds: sendTime,
	});
	const info = lp('im-tui/3 message', 'alice', 'bob', aliceRecord.identity, aliceRecord.x25519, bobRecord.identity, bobRecord.x25519, first.header, 'm1', 'direct');
	const fernetKey = hkdf(messageKey, Buffer.alloc(0), info, 32);
	const send: ClientMessage = {type: 'send', id: 'm1', to: 'bob', kind: 'direct', ratchet: toBase64Url(first.header), body: first.body};

	// 8.7: bob answers X3DH, opens the message with a DH ratchet step, and seals his receipt.
	const bobSecret = x3dhRespond({
		responder: {...bobParty, x25519Secret: bob.x25519.privateKey},
		initiator: aliceParty,
		signed: {id: signedPrekeyId, secret: signedPrekey.privateKey},
		oneTime: {id: oneTimePrekeyId, secret: oneTimePrekey.privateKey},
		baseKey: started.baseKey,
	});
	const bobRatchet = keyPairFromPrivate('x25519', bobRatchetPrivate);
	const opened = openRatchet({
		state: initRatchetResponder({sharedSecret: bobSecret, signedPrekey}),
		sender: aliceParty,
		recipient: bobParty,
		header: first.header,
		id: 'm1',
		kind: 'direct',
		body: first.body,
		skipped: () => undefined,
		nextDhPair: bobRatchet,
	});
	if (!opened.payload.equals(payload)) throw new Error('bob does not read what alice sealed');
	const replyDh = dh(bobRatchetPrivate, aliceRatchet.publicRaw);
	const replyRoot = hkdf(replyDh, root.subarray(0, 32), 'im-tui/3 ratchet', 64);
	const replyMessageKey = hmac(replyRoot.subarray(32), Buffer.of(1));
	const receiptPayload = encodePayload({v: 1, counter: 0, type: 'receipt', ids: ['m1']});
	const reply = sealRatchet({
		state: opened.state,
		sender: bobParty,
		recipient: aliceParty,
		baseKey: started.baseKey,
		id: 'r1',
		kind: 'direct',
		payload: receiptPayload,
		iv: replyIv,
		timeSeconds: sendTime,
	});
	const replyInfo = lp('im-tui/3 message', 'bob', 'alice', bobRecord.identity, bobRecord.x25519, aliceRecord.identity, aliceRecord.x25519, reply.header, 'r1', 'direct');
	const replyKey = hkdf(replyMessageKey, Buffer.alloc(0), replyInfo, 32);

	// 8.5 to 8.7: what the relay's own code sends back, then every frame of this connection.
	// 8.9: alice looks up three names once bob has acknowledged her message.
	const lookup: ClientMessage = {type: 'lookup', id: 'q1', names: ['Bob', 'carol', 'system']};
	const relayed = await runRelay(relayIdentity.publicRaw, hash, bob, bobPrekeys, [login, getBundle, send], [lookup]);
	const [loginRequest, welcome, bundle, accepted, found] = relayed.alice;
	const [lowCount, userJoined, delivered] = relayed.bob;
	if (welcome?.type !== 'welcome' || lowCount === undefined || userJoined === undefined || delivered === undefined || relayed.bobCounted.length !== 1) {
		throw new Error('the relay did not answer as section 8 expects (see the "relay" test)');
	}
	const relayFrames: Frame[] = [
		{name: 'r2c_0', iv: run(0x00, 16), timestamp: handshakeTime, messages: [loginRequest!]},
		{name: 'r2c_1', iv: run(0x20, 16), timestamp: handshakeTime, messages: [welcome]},
		{name: 'r2c_2', iv: run(0x40, 16), timestamp: sendTime, messages: [bundle!]},
		{name: 'r2c_3', iv: run(0x70, 16), timestamp: sendTime, messages: [accepted!]},
		{name: 'r2c_4', iv: run(0x90, 16), timestamp: sendTime, messages: [found!]},
	];
	const clientFrames: Frame[] = [
		{name: 'c2r_0', iv: run(0x10, 16), timestamp: handshakeTime, messages: [login]},
		{name: 'c2r_1', iv: run(0x30, 16), timestamp: sendTime, messages: [getBundle]},
		{name: 'c2r_2', iv: run(0x60, 16), timestamp: sendTime, messages: [send]},
		{name: 'c2r_3', iv: run(0x80, 16), timestamp: sendTime, messages: [lookup]},
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
		bob_signed_prekey_private: hex(bobSignedPrekeyPrivate),
		bob_one_time_prekey_private: hex(bobOneTimePrekeyPrivate),
		alice_base_key_private: hex(aliceBaseKeyPrivate),
		alice_ratchet_private: hex(aliceRatchetPrivate),
		bob_ratchet_private: hex(bobRatchetPrivate),

		client_ephemeral_public: hex(client.publicRaw),
		relay_identity_public: hex(relayIdentity.publicRaw),
		relay_ephemeral_public: hex(relay.publicRaw),
		client_hello: encodeClientHello(hello),
		transcript: hex(
			Buffer.concat([Buffer.from('im-tui/4 transcript'), client.publicRaw, clientRandom, relayIdentity.publicRaw, relay.publicRaw]),
		),
		H: hex(hash),
		signed_message: hex(Buffer.concat([Buffer.from('im-tui/4 handshake'), hash])),
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
		alice_proof_message: hex(Buffer.concat([Buffer.from('im-tui/4 login'), relayIdentity.publicRaw, hash, lp('alice')])),
		alice_proof: hex(loginProof(alice, relayIdentity.publicRaw, hash, 'alice')),
		alice_login: JSON.stringify(login),

		...frames,
		...tokenParts('r2c_0_token', frames.r2c_0_token!),
		bob_user_record: JSON.stringify(welcome.users[0]),

		bob_signed_prekey_public: hex(signedPrekey.publicRaw),
		bob_one_time_prekey_public: hex(oneTimePrekey.publicRaw),
		signed_prekey_message: hex(signedPrekeyMessage),
		signed_prekey_signature: hex(prekeySignature),
		bob_prekeys: JSON.stringify(bobPrekeys),
		bob_prekey_count: JSON.stringify(relayed.bobCounted[0]),

		alice_base_key_public: hex(started.baseKey),
		x3dh_DH1: hex(x3dh[0]!),
		x3dh_DH2: hex(x3dh[1]!),
		x3dh_DH3: hex(x3dh[2]!),
		x3dh_DH4: hex(x3dh[3]!),
		x3dh_info: hex(x3dhInfo),
		x3dh_PRK: hex(hmac(Buffer.alloc(32), x3dhIkm)),
		SK: hex(started.sharedSecret),

		alice_ratchet_public: hex(aliceRatchet.publicRaw),
		ratchet_DH: hex(ratchetDh),
		ratchet_PRK: hex(hmac(sk, ratchetDh)),
		alice_RK: hex(root.subarray(0, 32)),
		alice_CKs: hex(sendingChain),
		message_key: hex(messageKey),
		alice_CKs_next: hex(hmac(sendingChain, Buffer.of(2))),
		header: hex(first.header),
		header_b64u: toBase64Url(first.header),
		message_info: hex(info),
		message_PRK: hex(hmac(Buffer.alloc(0), messageKey)),
		message_K: hex(fernetKey),
		message_fernet_key: toBase64UrlPadded(fernetKey),
		payload: payload.toString('utf8'),
		body_iv: hex(bodyIv),
		body_timestamp: String(sendTime),
		body: first.body,
		...tokenParts('body_token', first.body),
		send: JSON.stringify(send),

		relay_to_bob_prekey_count: JSON.stringify(lowCount),
		relay_to_bob_user_joined: JSON.stringify(userJoined),
		relay_to_bob_message: JSON.stringify(delivered),
		bob_ratchet_public: hex(bobRatchet.publicRaw),
		reply_DH: hex(replyDh),
		bob_RK: hex(replyRoot.subarray(0, 32)),
		bob_CKs: hex(replyRoot.subarray(32)),
		reply_message_key: hex(replyMessageKey),
		reply_header: hex(reply.header),
		reply_header_b64u: toBase64Url(reply.header),
		reply_info: hex(replyInfo),
		reply_K: hex(replyKey),
		receipt_payload: receiptPayload.toString('utf8'),
		reply_body_iv: hex(replyIv),
		reply_body_timestamp: String(sendTime),
		reply_body: reply.body,

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

/** The secrets of the version 3 example, from the stated values. */
function statedKey(name: string) {
	return keyPairFromPrivate('x25519', bytes(name));
}

/** KDF_RK of section 14.3 spelled out: HKDF-SHA256 with L = 64 is T(1) || T(2). */
function kdfRootByHand(rootKey: Buffer, dhOut: Buffer): Buffer {
	const prk = hmac(rootKey, dhOut);
	const t1 = hmac(prk, Buffer.from('im-tui/3 ratchet'), Buffer.of(1));
	const t2 = hmac(prk, t1, Buffer.from('im-tui/3 ratchet'), Buffer.of(2));
	return Buffer.concat([t1, t2]);
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
		expect(expand('im-tui/4 client->relay')).toBe(text('K_c2r'));
		expect(expand('im-tui/4 relay->client')).toBe(text('K_r2c'));
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
		expect(parseRelayMessage(json('bob_prekey_count'))).toEqual({type: 'prekey_count', oneTime: 1, signed: 7});
		// Alice's bundle took bob's last one-time prekey: fewer than prekeyLowWater left, and bob is online.
		expect(parseRelayMessage(json('relay_to_bob_prekey_count'))).toEqual({type: 'prekey_count', oneTime: 0, signed: 7});
		const prekeys = parseClientMessage(json('bob_prekeys'));
		if (prekeys.type !== 'prekeys') throw new Error('bob_prekeys is not a prekeys message');
		const bundle = parseRelayMessage(JSON.parse(text('r2c_2_plaintext')).msgs[0]);
		expect(bundle).toEqual({type: 'bundle', id: 'b1', username: 'bob', signed: prekeys.signed, oneTime: prekeys.oneTime![0]});
		const accepted = parseRelayMessage(JSON.parse(text('r2c_3_plaintext')).msgs[0]);
		const message = parseRelayMessage(json('relay_to_bob_message'));
		expect(accepted).toEqual({type: 'accepted', id: 'm1', to: 'bob', time: message.type === 'message' ? message.time : -1});
	});

	it('opens each token in order and yields the stated messages', () => {
		const client = new FrameOpener(bytes('K_r2c'), 1024);
		for (const name of ['r2c_0', 'r2c_1', 'r2c_2', 'r2c_3', 'r2c_4']) {
			expect(client.open(text(`${name}_token`)).map(parseRelayMessage)).toEqual(JSON.parse(text(`${name}_plaintext`)).msgs);
		}
		const relay = new FrameOpener(bytes('K_c2r'), 1024);
		for (const name of ['c2r_0', 'c2r_1', 'c2r_2', 'c2r_3']) {
			expect(relay.open(text(`${name}_token`)).map(parseClientMessage)).toEqual(JSON.parse(text(`${name}_plaintext`)).msgs);
		}
		expect(JSON.parse(text('c2r_0_plaintext')).msgs).toEqual([json('alice_login')]);
		expect(JSON.parse(text('c2r_1_plaintext')).msgs).toEqual([{type: 'get_bundle', id: 'b1', username: 'bob'}]);
		expect(JSON.parse(text('c2r_2_plaintext')).msgs).toEqual([json('send')]);
		expect(JSON.parse(text('c2r_3_plaintext')).msgs).toEqual([{type: 'lookup', id: 'q1', names: ['Bob', 'carol', 'system']}]);
		const found = parseRelayMessage(JSON.parse(text('r2c_4_plaintext')).msgs[0]);
		expect(found).toEqual({type: 'found', id: 'q1', users: [json('bob_user_record')], missing: ['carol', 'system']});
	});

	it('accepts any JSON serialisation of a batch, since the MAC covers only the bytes sent', () => {
		const send = json('send');
		const reordered = `{"body": ${JSON.stringify(send.body)}, "ratchet": ${JSON.stringify(send.ratchet)},\n "kind": "direct", "to": "bob", "id": "m1", "type": "send"}`;
		const plaintext = ` {"msgs": [ ${reordered} ],\n "seq": 0, "v": 4}`;
		const token = new Fernet(bytes('K_c2r')).encrypt(plaintext, {iv: bytes('c2r_2_iv'), timeSeconds: sendTime});
		expect(new FrameOpener(bytes('K_c2r'), 1024).open(token).map(parseClientMessage)).toEqual([send]);
	});

	it('keeps the directions apart: the relay-to-client key cannot open a client token', () => {
		const opener = new FrameOpener(bytes('K_r2c'), 1024);
		expect(errorCode(() => opener.open(text('c2r_0_token')))).toBe('bad_token');
	});

	it("signs bob's signed prekey over the stated bytes, and publishes the stated keys", () => {
		const identity = bytes('bob_identity_public');
		const signedKey = bytes('bob_signed_prekey_public');
		expect(hex(statedKey('bob_signed_prekey_private').publicRaw)).toBe(text('bob_signed_prekey_public'));
		expect(hex(statedKey('bob_one_time_prekey_private').publicRaw)).toBe(text('bob_one_time_prekey_public'));
		expect(bytes('signed_prekey_message').equals(Buffer.concat([Buffer.from('im-tui/3 signed prekey'), lp('bob'), u32be(7), signedKey]))).toBe(true);
		expect(verify(null, bytes('signed_prekey_message'), publicKeyFromRaw('ed25519', identity), bytes('signed_prekey_signature'))).toBe(true);
		expect(verifyPrekey(identity, 'bob', 7, signedKey, bytes('signed_prekey_signature'))).toBe(true);
		// Under another id, name or identity it fails: the relay can neither renumber nor move it.
		expect(verifyPrekey(identity, 'bob', 8, signedKey, bytes('signed_prekey_signature'))).toBe(false);
		expect(verifyPrekey(identity, 'carol', 7, signedKey, bytes('signed_prekey_signature'))).toBe(false);
		expect(verifyPrekey(bytes('alice_identity_public'), 'bob', 7, signedKey, bytes('signed_prekey_signature'))).toBe(false);
		expect(json('bob_prekeys')).toEqual({
			type: 'prekeys',
			signed: {id: 7, key: toBase64Url(signedKey), signature: toBase64Url(bytes('signed_prekey_signature'))},
			oneTime: [{id: 41, key: toBase64Url(bytes('bob_one_time_prekey_public'))}],
		});
	});

	it('derives SK from the stated DHs, info and PRK, the same on both sides', () => {
		const base = statedKey('alice_base_key_private');
		expect(hex(base.publicRaw)).toBe(text('alice_base_key_public'));
		const alice = {x25519: bytes('alice_x25519_private'), base: bytes('alice_base_key_private')};
		expect(hex(dh(alice.x25519, bytes('bob_signed_prekey_public')))).toBe(text('x3dh_DH1'));
		expect(hex(dh(alice.base, bytes('bob_x25519_public')))).toBe(text('x3dh_DH2'));
		expect(hex(dh(alice.base, bytes('bob_signed_prekey_public')))).toBe(text('x3dh_DH3'));
		expect(hex(dh(alice.base, bytes('bob_one_time_prekey_public')))).toBe(text('x3dh_DH4'));
		expect(hex(dh(bytes('bob_signed_prekey_private'), bytes('alice_x25519_public')))).toBe(text('x3dh_DH1'));
		expect(hex(dh(bytes('bob_x25519_private'), bytes('alice_base_key_public')))).toBe(text('x3dh_DH2'));
		expect(hex(dh(bytes('bob_signed_prekey_private'), bytes('alice_base_key_public')))).toBe(text('x3dh_DH3'));
		expect(hex(dh(bytes('bob_one_time_prekey_private'), bytes('alice_base_key_public')))).toBe(text('x3dh_DH4'));
		const info = lp(
			'im-tui/3 x3dh',
			'alice',
			bytes('alice_identity_public'),
			bytes('alice_x25519_public'),
			'bob',
			bytes('bob_identity_public'),
			bytes('bob_x25519_public'),
			u32be(7),
			u32be(41),
		);
		expect(hex(info)).toBe(text('x3dh_info'));
		const ikm = Buffer.concat([Buffer.alloc(32, 0xff), ...['x3dh_DH1', 'x3dh_DH2', 'x3dh_DH3', 'x3dh_DH4'].map(bytes)]);
		expect(hex(hmac(Buffer.alloc(32), ikm))).toBe(text('x3dh_PRK'));
		expect(hex(hmac(bytes('x3dh_PRK'), info, Buffer.of(1)))).toBe(text('SK'));
	});

	it("derives alice's first message key and header as stated, and seals the body with them", () => {
		expect(hex(statedKey('alice_ratchet_private').publicRaw)).toBe(text('alice_ratchet_public'));
		expect(hex(dh(bytes('alice_ratchet_private'), bytes('bob_signed_prekey_public')))).toBe(text('ratchet_DH'));
		expect(hex(hmac(bytes('SK'), bytes('ratchet_DH')))).toBe(text('ratchet_PRK'));
		const root = kdfRootByHand(bytes('SK'), bytes('ratchet_DH'));
		expect(hex(root.subarray(0, 32))).toBe(text('alice_RK'));
		expect(hex(root.subarray(32))).toBe(text('alice_CKs'));
		expect(hex(hmac(bytes('alice_CKs'), Buffer.of(1)))).toBe(text('message_key'));
		expect(hex(hmac(bytes('alice_CKs'), Buffer.of(2)))).toBe(text('alice_CKs_next'));
		const header = Buffer.concat([Buffer.of(0x03, 0x03), bytes('alice_base_key_public'), bytes('alice_ratchet_public'), u32be(0), u32be(0), u32be(7), u32be(41)]);
		expect(header).toHaveLength(82);
		expect(hex(header)).toBe(text('header'));
		expect(toBase64Url(header)).toBe(text('header_b64u'));
		expect(text('header_b64u')).toHaveLength(110);
		expect(parseHeader(header)).toEqual({baseKey: bytes('alice_base_key_public'), dh: bytes('alice_ratchet_public'), previousN: 0, n: 0, prekey: {signedId: 7, oneTimeId: 41}});
		const info = lp(
			'im-tui/3 message',
			'alice',
			'bob',
			bytes('alice_identity_public'),
			bytes('alice_x25519_public'),
			bytes('bob_identity_public'),
			bytes('bob_x25519_public'),
			header,
			'm1',
			'direct',
		);
		expect(hex(info)).toBe(text('message_info'));
		expect(hex(hmac(Buffer.alloc(0), bytes('message_key')))).toBe(text('message_PRK'));
		// An empty HMAC key and HashLen zero bytes are the same key (RFC 5869 section 2.2).
		expect(hex(hmac(Buffer.alloc(32), bytes('message_key')))).toBe(text('message_PRK'));
		const key = hmac(bytes('message_PRK'), info, Buffer.of(1));
		expect(hex(key)).toBe(text('message_K'));
		const fernet = new Fernet(key);
		expect(fernet.decrypt(text('body')).toString('utf8')).toBe(text('payload'));
		expect(fernet.encrypt(text('payload'), {iv: bytes('body_iv'), timeSeconds: Number(text('body_timestamp'))})).toBe(text('body'));
		expect(json('send')).toEqual({type: 'send', id: 'm1', to: 'bob', kind: 'direct', ratchet: text('header_b64u'), body: text('body')});
	});

	it('lets bob open what the relay delivers with his prekeys and the keys he pinned for alice, and nothing relabelled', () => {
		const joined = parseRelayMessage(json('relay_to_bob_user_joined'));
		const message = parseRelayMessage(json('relay_to_bob_message'));
		if (joined.type !== 'user_joined' || message.type !== 'message') throw new Error('unexpected relay messages');
		expect(message).toMatchObject({delivery: 1, from: 'alice', to: 'bob', id: 'm1', kind: 'direct', ratchet: text('header_b64u'), body: text('body')});
		expect(message).not.toHaveProperty('ephemeral');
		const header = b64(message.ratchet, 82);
		const alice = pinned(joined.user);
		const bob = {name: 'bob', identity: bytes('bob_identity_public'), x25519: bytes('bob_x25519_public')};
		const sk = x3dhRespond({
			responder: {...bob, x25519Secret: statedKey('bob_x25519_private').privateKey},
			initiator: alice,
			signed: {id: 7, secret: statedKey('bob_signed_prekey_private').privateKey},
			oneTime: {id: 41, secret: statedKey('bob_one_time_prekey_private').privateKey},
			baseKey: parseHeader(header).baseKey,
		});
		expect(hex(sk)).toBe(text('SK'));
		const open = (id: string, kind: EnvelopeKind, sender = alice, bytes = header) =>
			openRatchet({
				state: initRatchetResponder({sharedSecret: sk, signedPrekey: statedKey('bob_signed_prekey_private')}),
				sender,
				recipient: bob,
				header: bytes,
				id,
				kind,
				body: message.body,
				skipped: () => undefined,
			}).payload.toString('utf8');
		expect(open('m1', 'direct')).toBe(text('payload'));
		const otherHeader = Buffer.from(header);
		otherHeader[73] = 1; // n = 1: bob skips message 0 and the key no longer fits
		const relabelled = [() => open('m2', 'direct'), () => open('m1', 'everyone'), () => open('m1', 'direct', {...alice, name: 'carol'}), () => open('m1', 'direct', alice, otherHeader)];
		for (const attempt of relabelled) expect(errorCode(attempt)).toBe('authentication');
		expect(() => open('m1', 'everyone')).toThrow(EnvelopeError);
	});

	it("derives bob's reply keys by his DH ratchet step, and alice opens his receipt", () => {
		// Bob's receiving chain is alice's sending chain: the same DH from the other side.
		expect(hex(dh(bytes('bob_signed_prekey_private'), bytes('alice_ratchet_public')))).toBe(text('ratchet_DH'));
		expect(hex(statedKey('bob_ratchet_private').publicRaw)).toBe(text('bob_ratchet_public'));
		expect(hex(dh(bytes('bob_ratchet_private'), bytes('alice_ratchet_public')))).toBe(text('reply_DH'));
		const root = kdfRootByHand(bytes('alice_RK'), bytes('reply_DH'));
		expect(hex(root.subarray(0, 32))).toBe(text('bob_RK'));
		expect(hex(root.subarray(32))).toBe(text('bob_CKs'));
		expect(hex(hmac(bytes('bob_CKs'), Buffer.of(1)))).toBe(text('reply_message_key'));
		const header = Buffer.concat([Buffer.of(0x03, 0x00), bytes('alice_base_key_public'), bytes('bob_ratchet_public'), u32be(0), u32be(0)]);
		expect(header).toHaveLength(74);
		expect(hex(header)).toBe(text('reply_header'));
		expect(toBase64Url(header)).toBe(text('reply_header_b64u'));
		expect(text('reply_header_b64u')).toHaveLength(99);
		const info = lp(
			'im-tui/3 message',
			'bob',
			'alice',
			bytes('bob_identity_public'),
			bytes('bob_x25519_public'),
			bytes('alice_identity_public'),
			bytes('alice_x25519_public'),
			header,
			'r1',
			'direct',
		);
		expect(hex(info)).toBe(text('reply_info'));
		const key = hkdf(bytes('reply_message_key'), Buffer.alloc(0), info, 32);
		expect(hex(key)).toBe(text('reply_K'));
		const fernet = new Fernet(key);
		expect(fernet.encrypt(text('receipt_payload'), {iv: bytes('reply_body_iv'), timeSeconds: Number(text('reply_body_timestamp'))})).toBe(text('reply_body'));

		// Alice, in the state her first message left, opens it with a DH ratchet step of her own.
		const alice = {name: 'alice', identity: bytes('alice_identity_public'), x25519: bytes('alice_x25519_public')};
		const bob = {name: 'bob', identity: bytes('bob_identity_public'), x25519: bytes('bob_x25519_public')};
		const state = initRatchetInitiator({sharedSecret: bytes('SK'), remote: bytes('bob_signed_prekey_public'), dhPair: statedKey('alice_ratchet_private')});
		const first = sealRatchet({state, sender: alice, recipient: bob, baseKey: bytes('alice_base_key_public'), prekey: {signedId: 7, oneTimeId: 41}, id: 'm1', kind: 'direct', payload: text('payload'), iv: bytes('body_iv'), timeSeconds: sendTime});
		expect(first.body).toBe(text('body'));
		const opened = openRatchet({state: first.state, sender: bob, recipient: alice, header, id: 'r1', kind: 'direct', body: text('reply_body'), skipped: () => undefined});
		expect(opened.payload.toString('utf8')).toBe(text('receipt_payload'));
		expect(opened.newSkipped).toEqual([]);
	});

	it("is what the clients' end-to-end layer sends and accepts, and bob's receipt confirms it", () => {
		const keysOf = (user: string) => identityOf(bytes(`${user}_identity_seed`), bytes(`${user}_x25519_private`));
		const directory = tempDir('im-tui-protocol-example-');
		const clientOf = (user: string, name = user) => {
			const database = openAccountDatabase(join(directory, name, 'account.db'));
			return {database, ...endToEndFor({database, username: user, keys: keysOf(user), contacts: new ContactStore(database)}, () => sentMs)};
		};
		/** Bob's client holding the example's prekey secrets (ours makes its own at random). */
		const bobWithPrekeys = (name: string) => {
			const bob = clientOf('bob', name);
			const insert = bob.database.prepare('INSERT INTO prekeys (kind, id, secret, public, signature, created) VALUES (?, ?, ?, ?, ?, ?)');
			insert.run('signed', 7, bytes('bob_signed_prekey_private'), bytes('bob_signed_prekey_public'), bytes('signed_prekey_signature'), sentMs);
			insert.run('one-time', 41, bytes('bob_one_time_prekey_private'), bytes('bob_one_time_prekey_public'), null, sentMs);
			return bob;
		};
		const joined = parseRelayMessage(json('relay_to_bob_user_joined'));
		const message = parseRelayMessage(json('relay_to_bob_message'));
		const bundleMessage = parseRelayMessage(JSON.parse(text('r2c_2_plaintext')).msgs[0]);
		if (joined.type !== 'user_joined' || message.type !== 'message' || bundleMessage.type !== 'bundle') throw new Error('unexpected relay message');
		const bundle = {
			signed: {id: bundleMessage.signed.id, key: b64(bundleMessage.signed.key, 32), signature: b64(bundleMessage.signed.signature, 64)},
			oneTime: {id: bundleMessage.oneTime!.id, key: b64(bundleMessage.oneTime!.key, 32)},
		};
		const {type: _type, ...delivered} = message;

		// Bob's client accepts the delivered envelope once, and owes alice a receipt.
		const bob = bobWithPrekeys('bob');
		expect(bob.e2e.observeAll([joined.user])).toEqual(['pinned']);
		expect(bob.e2e.open(delivered)).toMatchObject({type: 'text', from: 'alice', id: 'm1', kind: 'direct', text: 'hello bob', sent: sentMs, gap: 0});
		expect(bob.e2e.open(delivered)).toMatchObject({type: 'rejected', code: 'replay'});

		// Alice's client: nothing is sealed before there is a session; from the bundle it writes a
		// header like the stated one (its base and ratchet keys are random) and exactly the stated payload.
		const alice = clientOf('alice');
		expect(alice.e2e.observeAll([{...json('bob_user_record'), online: true} as UserRecord])).toEqual(['pinned']);
		expect(alice.e2e.seal('bob', 'direct', 'm1', 'hello bob')).toBeUndefined();
		alice.e2e.startSession('bob', bundle);
		const [sealed, ...more] = alice.e2e.sealWaiting('bob', 10);
		expect(more).toEqual([]);
		expect(sealed).toMatchObject({id: 'm1', to: 'bob', kind: 'direct'});
		expect(sealed).not.toHaveProperty('ephemeral');
		const header = b64(sealed!.ratchet, 82);
		const statedHeader = bytes('header');
		expect(header.subarray(0, 2)).toEqual(statedHeader.subarray(0, 2));
		expect(header.subarray(66)).toEqual(statedHeader.subarray(66));
		const fresh = bobWithPrekeys('bob-2');
		expect(fresh.e2e.observeAll([joined.user])).toEqual(['pinned']);
		expect(fresh.e2e.open({...delivered, ratchet: sealed!.ratchet, body: sealed!.body})).toMatchObject({type: 'text', id: 'm1', text: 'hello bob', sent: sentMs, gap: 0});
		const sk = x3dhRespond({
			responder: {name: 'bob', identity: bytes('bob_identity_public'), x25519: bytes('bob_x25519_public'), x25519Secret: statedKey('bob_x25519_private').privateKey},
			initiator: pinned(joined.user),
			signed: {id: 7, secret: statedKey('bob_signed_prekey_private').privateKey},
			oneTime: {id: 41, secret: statedKey('bob_one_time_prekey_private').privateKey},
			baseKey: parseHeader(header).baseKey,
		});
		const payload = openRatchet({
			state: initRatchetResponder({sharedSecret: sk, signedPrekey: statedKey('bob_signed_prekey_private')}),
			sender: pinned(joined.user),
			recipient: {name: 'bob', identity: bytes('bob_identity_public'), x25519: bytes('bob_x25519_public')},
			header,
			id: 'm1',
			kind: 'direct',
			body: sealed!.body,
			skipped: () => undefined,
		}).payload;
		expect(payload.toString('utf8')).toBe(text('payload'));

		// The second bob's receipt goes back in that session, and alice's client takes it as one.
		const receipt = fresh.e2e.receipt('alice', ['m1']);
		expect(receipt).toBeDefined();
		expect(b64(receipt!.ratchet, 74)[1]).toBe(0);
		const answer = alice.e2e.open({...receipt!, delivery: 1, from: 'bob', time: relayTimeMs});
		expect(answer).toMatchObject({type: 'receipt', from: 'bob', ids: ['m1'], gap: 0});

		expect(alice.e2e.safetyNumber('bob')).toBe(text('safety_number'));
		expect(bob.e2e.safetyNumber('alice')).toBe(text('safety_number'));
	});

	it('hashes the stated safety number input, and keeps the first 20 bytes', () => {
		const hash = createHash('sha256').update(bytes('safety_number_input')).digest();
		expect(hex(hash)).toBe(text('safety_number_hash'));
		expect(hex(hash.subarray(0, 20))).toBe(text('safety_number'));
		expect(text('safety_number_shown').replaceAll(' ', '')).toBe(text('safety_number'));
	});
});
