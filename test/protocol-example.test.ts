import {Buffer} from 'node:buffer';
import {createHash, createHmac, diffieHellman, verify} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {fromBase64UrlPadded, toBase64UrlPadded} from '../source/crypto/base64url.js';
import {Fernet} from '../source/crypto/fernet.js';
import {keyPairFromPrivate, publicKeyFromRaw} from '../source/crypto/raw-keys.js';
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
import {parseClientMessage, parseRelayMessage} from '../source/net/messages.js';
import {FrameOpener, FrameSealer} from '../source/net/secure-channel.js';

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

const clientEphemeralPrivate = run(0x01, 32);
const clientRandom = Buffer.alloc(32, 0xaa);
const relayIdentitySeed = run(0x21, 32);
const relayEphemeralPrivate = run(0x41, 32);

const relayFrames: Frame[] = [{name: 'r2c_0', iv: run(0x00, 16), timestamp: 1_767_225_600, messages: [{type: 'login_request'}]}];
const clientFrames: Frame[] = [
	{name: 'c2r_0', iv: run(0x10, 16), timestamp: 1_767_225_600, messages: [{type: 'login', username: 'alice'}]},
	{
		name: 'c2r_1',
		iv: run(0x20, 16),
		timestamp: 1_767_225_601,
		messages: [{type: 'send', id: 'm1', to: 'bob', text: 'hello bob'}],
	},
];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

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

function computeExample(): Record<string, string> {
	const client = keyPairFromPrivate('x25519', clientEphemeralPrivate);
	const identity = keyPairFromPrivate('ed25519', relayIdentitySeed);
	const relay = keyPairFromPrivate('x25519', relayEphemeralPrivate);
	const hello = newClientHello(client, clientRandom);
	const hash = transcriptHash(hello, identity.publicRaw, relay.publicRaw);
	const signature = signTranscript(identity.privateKey, hash);
	const keys = deriveSessionKeys(client.privateKey, relay.publicRaw, hash);
	const shared = diffieHellman({privateKey: client.privateKey, publicKey: relay.publicKey});
	const frames = {...sealAll(keys.relayToClient, relayFrames), ...sealAll(keys.clientToRelay, clientFrames)};
	const token = fromBase64UrlPadded(frames.c2r_1_token!);
	return {
		client_ephemeral_private: hex(clientEphemeralPrivate),
		client_random: hex(clientRandom),
		relay_identity_seed: hex(relayIdentitySeed),
		relay_ephemeral_private: hex(relayEphemeralPrivate),
		client_ephemeral_public: hex(client.publicRaw),
		relay_identity_public: hex(identity.publicRaw),
		relay_ephemeral_public: hex(relay.publicRaw),
		client_hello: encodeClientHello(hello),
		transcript: hex(
			Buffer.concat([Buffer.from('im-tui/1 transcript'), client.publicRaw, clientRandom, identity.publicRaw, relay.publicRaw]),
		),
		H: hex(hash),
		signed_message: hex(Buffer.concat([Buffer.from('im-tui/1 handshake'), hash])),
		signature: hex(signature),
		relay_hello: encodeRelayHello({identity: identity.publicRaw, ephemeral: relay.publicRaw, signature}),
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
		...frames,
		c2r_1_token_version: hex(token.subarray(0, 1)),
		c2r_1_token_timestamp: hex(token.subarray(1, 9)),
		c2r_1_token_iv: hex(token.subarray(9, 25)),
		c2r_1_token_ciphertext: hex(token.subarray(25, -32)),
		c2r_1_token_hmac: hex(token.subarray(-32)),
	};
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
const computed = computeExample();

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
		expect(expand('im-tui/1 client->relay')).toBe(text('K_c2r'));
		expect(expand('im-tui/1 relay->client')).toBe(text('K_r2c'));
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

	it('opens each token in order and yields the stated messages', () => {
		const client = new FrameOpener(bytes('K_r2c'), 1024);
		expect(client.open(text('r2c_0_token')).map(parseRelayMessage)).toEqual(
			JSON.parse(text('r2c_0_plaintext')).msgs,
		);
		const relay = new FrameOpener(bytes('K_c2r'), 1024);
		for (const name of ['c2r_0', 'c2r_1']) {
			expect(relay.open(text(`${name}_token`)).map(parseClientMessage)).toEqual(
				JSON.parse(text(`${name}_plaintext`)).msgs,
			);
		}
	});

	it('accepts any JSON serialisation of a batch, since the MAC covers only the bytes sent', () => {
		const plaintext = ' {"msgs": [ {"text": "hello bob", "to": "bob", "id": "m1", "type": "send"} ],\n "seq": 0, "v": 1}';
		const token = new Fernet(bytes('K_c2r')).encrypt(plaintext, {iv: bytes('c2r_1_iv'), timeSeconds: 1_767_225_601});
		expect(new FrameOpener(bytes('K_c2r'), 1024).open(token).map(parseClientMessage)).toEqual([
			{type: 'send', id: 'm1', to: 'bob', text: 'hello bob'},
		]);
	});

	it('keeps the directions apart: the relay-to-client key cannot open a client token', () => {
		const opener = new FrameOpener(bytes('K_r2c'), 1024);
		expect(errorCode(() => opener.open(text('c2r_0_token')))).toBe('bad_token');
	});
});
