import {describe, expect, it} from 'vitest';
import {Fernet} from '../../source/crypto/fernet.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {deriveSessionKeys, encodeClientHello, newClientHello, parseRelayHello, transcriptHash, versionMismatch} from '../../source/net/handshake.js';
import {FrameOpener} from '../../source/net/secure-channel.js';
import {relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

describe('a client of another protocol version (PROTOCOL.md section 13)', () => {
	it('a version 3 client_hello gets a plaintext unsupported_version saying to upgrade im-tui, and a close', async () => {
		const relay = await relayForTest();
		const peer = await RawPeer.open(relay.port);
		const hello = JSON.parse(encodeClientHello(newClientHello(generateRawKeyPair('x25519')))) as Record<string, unknown>;
		peer.write(JSON.stringify({...hello, version: 3}) + '\n');
		const error = JSON.parse(await peer.line(0)) as Record<string, unknown>;
		expect(error).toEqual({type: 'error', code: 'unsupported_version', message: versionMismatch(3, 'relay'), fatal: true, ref: null});
		expect(error.message).toMatch(/upgrade im-tui to 0\.5\.0 or later/);
		await peer.untilClosed();
	});

	it('a batch of version 1 after the handshake is a fatal unsupported_version', async () => {
		const relay = await relayForTest();
		const peer = await RawPeer.open(relay.port);
		const ephemeral = generateRawKeyPair('x25519');
		const hello = newClientHello(ephemeral);
		peer.write(encodeClientHello(hello) + '\n');
		const relayHello = parseRelayHello(await peer.line(0));
		const keys = deriveSessionKeys(ephemeral.privateKey, relayHello.ephemeral, transcriptHash(hello, relayHello.identity, relayHello.ephemeral));
		const opener = new FrameOpener(keys.relayToClient, 1024);
		expect(opener.open(await peer.line(1))).toEqual([{type: 'login_request'}]);
		peer.write(new Fernet(keys.clientToRelay).encrypt(JSON.stringify({v: 1, seq: 0, msgs: [{type: 'ping', nonce: 1}]})) + '\n');
		expect(opener.open(await peer.line(2))).toEqual([expect.objectContaining({type: 'error', code: 'unsupported_version', fatal: true})]);
		await peer.untilClosed();
	});
});
