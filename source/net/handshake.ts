import {createHash, diffieHellman, hkdfSync, randomBytes, sign, verify, type KeyObject} from 'node:crypto';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import {publicKeyFromRaw, type RawKeyPair} from '../crypto/raw-keys.js';
import {ProtocolError} from './error-codes.js';
import {asObject} from './messages.js';

/** The plaintext handshake of PROTOCOL.md section 2: pure functions, no sockets. */
export const protocolVersion = 4;

/** The first im-tui release that speaks this protocol version: what a person on another version installs. */
export const releaseOfVersion = '0.5.0';

const transcriptLabel = Buffer.from('im-tui/4 transcript');
const signatureLabel = Buffer.from('im-tui/4 handshake');
const clientToRelayInfo = Buffer.from('im-tui/4 client->relay');
const relayToClientInfo = Buffer.from('im-tui/4 relay->client');

export type ClientHello = {ephemeral: Buffer; random: Buffer};
export type RelayHello = {identity: Buffer; ephemeral: Buffer; signature: Buffer};
export type SessionKeys = {clientToRelay: Buffer; relayToClient: Buffer};

export function newClientHello(ephemeral: RawKeyPair, random: Buffer = randomBytes(32)): ClientHello {
	return {ephemeral: ephemeral.publicRaw, random};
}

export function encodeClientHello(hello: ClientHello): string {
	return JSON.stringify({
		type: 'client_hello',
		version: protocolVersion,
		ephemeral: toBase64Url(hello.ephemeral),
		random: toBase64Url(hello.random),
	});
}

export function encodeRelayHello(hello: RelayHello): string {
	return JSON.stringify({
		type: 'relay_hello',
		version: protocolVersion,
		identity: toBase64Url(hello.identity),
		ephemeral: toBase64Url(hello.ephemeral),
		signature: toBase64Url(hello.signature),
	});
}

function parseHandshakeFrame(frame: string, expectedType: string): Record<string, unknown> {
	let value: unknown;
	try {
		value = JSON.parse(frame);
	} catch {
		throw new ProtocolError('bad_frame', `expected ${expectedType} as a JSON object`);
	}
	let fields: Record<string, unknown>;
	try {
		fields = asObject(value);
	} catch {
		throw new ProtocolError('bad_frame', `expected ${expectedType} as a JSON object`);
	}
	if (fields.type !== expectedType) throw new ProtocolError('bad_frame', `expected ${expectedType}`);
	if (fields.version !== protocolVersion) {
		throw new ProtocolError('unsupported_version', versionMismatch(fields.version, expectedType === 'client_hello' ? 'relay' : 'client'));
	}
	return fields;
}

/**
 * What a person on the other side can act on: which side is older and what to install. `we` is
 * the side writing the words (the relay, to a client of another version; or a client, about a relay).
 */
export function versionMismatch(theirs: unknown, we: 'relay' | 'client'): string {
	const them = we === 'relay' ? 'your im-tui' : 'the relay';
	const own = `this ${we} speaks im-tui protocol version ${protocolVersion} (im-tui ${releaseOfVersion})`;
	if (typeof theirs !== 'number' || !Number.isSafeInteger(theirs)) return `${own}; ${them} sent no version number it knows`;
	if (theirs < protocolVersion) {
		return we === 'relay'
			? `${own} and your im-tui speaks version ${theirs}: upgrade im-tui to ${releaseOfVersion} or later (npm install -g im-tui@latest)`
			: `${own} and the relay speaks version ${theirs}: ask its operator to upgrade the relay to im-tui-server ${releaseOfVersion} or later`;
	}
	return we === 'relay'
		? `${own} and your im-tui speaks the newer version ${theirs}: ask the relay's operator to upgrade it, or use im-tui ${releaseOfVersion}`
		: `${own} and the relay speaks the newer version ${theirs}: upgrade im-tui (npm install -g im-tui@latest)`;
}

function keyField(fields: Record<string, unknown>, key: string, length: number): Buffer {
	const value = fields[key];
	try {
		if (typeof value !== 'string') throw new TypeError('not a string');
		return fromBase64Url(value, length);
	} catch {
		throw new ProtocolError('handshake_failed', `"${key}" must be ${length} bytes in unpadded base64url`);
	}
}

export function parseClientHello(frame: string): ClientHello {
	const fields = parseHandshakeFrame(frame, 'client_hello');
	return {ephemeral: keyField(fields, 'ephemeral', 32), random: keyField(fields, 'random', 32)};
}

export function parseRelayHello(frame: string): RelayHello {
	const fields = parseHandshakeFrame(frame, 'relay_hello');
	return {
		identity: keyField(fields, 'identity', 32),
		ephemeral: keyField(fields, 'ephemeral', 32),
		signature: keyField(fields, 'signature', 64),
	};
}

export function transcriptHash(client: ClientHello, relayIdentity: Buffer, relayEphemeral: Buffer): Buffer {
	return createHash('sha256')
		.update(transcriptLabel)
		.update(client.ephemeral)
		.update(client.random)
		.update(relayIdentity)
		.update(relayEphemeral)
		.digest();
}

export function signTranscript(identityPrivate: KeyObject, hash: Buffer): Buffer {
	return sign(null, Buffer.concat([signatureLabel, hash]), identityPrivate);
}

export function verifyTranscript(identityRaw: Buffer, hash: Buffer, signature: Buffer): boolean {
	try {
		return verify(null, Buffer.concat([signatureLabel, hash]), publicKeyFromRaw('ed25519', identityRaw), signature);
	} catch {
		return false;
	}
}

export function deriveSessionKeys(ownEphemeral: KeyObject, peerEphemeralRaw: Buffer, hash: Buffer): SessionKeys {
	let shared: Buffer;
	try {
		shared = diffieHellman({privateKey: ownEphemeral, publicKey: publicKeyFromRaw('x25519', peerEphemeralRaw)});
	} catch {
		throw new ProtocolError('handshake_failed', 'the key exchange failed (invalid or low-order public key)');
	}
	if (shared.every(byte => byte === 0)) {
		throw new ProtocolError('handshake_failed', 'the key exchange produced an all-zero secret');
	}
	return {
		clientToRelay: Buffer.from(hkdfSync('sha256', shared, hash, clientToRelayInfo, 32)),
		relayToClient: Buffer.from(hkdfSync('sha256', shared, hash, relayToClientInfo, 32)),
	};
}
