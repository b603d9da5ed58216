// A lean protocol client for load generation: the real handshake, framing and login from dist/,
// but no end-to-end layer, so prebuilt opaque bodies can be pushed as fast as the relay takes them.
import {connect} from 'node:net';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {generateIdentity, loginProof, publicIdentity} from '../dist/crypto/identity.js';
import {generateRawKeyPair} from '../dist/crypto/raw-keys.js';
import {BatchWriter} from '../dist/net/batch-writer.js';
import {deriveSessionKeys, encodeClientHello, newClientHello, parseRelayHello, transcriptHash, verifyTranscript} from '../dist/net/handshake.js';
import {protocolDefaults} from '../dist/net/limits.js';
import {LineDecoder} from '../dist/net/line-decoder.js';
import {FrameOpener, FrameSealer} from '../dist/net/secure-channel.js';

export class BenchClient {
	frames = 0;
	messages = 0;
	onMessage = () => {};

	static async connect(port, username) {
		const client = new BenchClient();
		await client.#open(port, username);
		return client;
	}

	async #open(port, username) {
		const socket = connect({host: '127.0.0.1', port});
		socket.setNoDelay(true);
		this.socket = socket;
		await new Promise((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		const ephemeral = generateRawKeyPair('x25519');
		const hello = newClientHello(ephemeral);
		const decoder = new LineDecoder(protocolDefaults.maxFrameBytes);
		const welcomed = new Promise((resolve, reject) => {
			this.welcomed = resolve;
			this.failed = reject;
		});
		socket.on('error', error => this.failed(error));
		socket.on('data', chunk => {
			for (const frame of decoder.push(chunk)) this.#frame(frame, hello, ephemeral, username);
		});
		socket.write(encodeClientHello(hello) + '\n');
		await welcomed;
	}

	#frame(frame, hello, ephemeral, username) {
		if (!this.opener) {
			if (frame.includes('"type":"error"')) throw new Error(`the relay refused the connection: ${frame}`);
			const relayHello = parseRelayHello(frame);
			const hash = transcriptHash(hello, relayHello.identity, relayHello.ephemeral);
			if (!verifyTranscript(relayHello.identity, hash, relayHello.signature)) throw new Error('bad relay signature');
			const keys = deriveSessionKeys(ephemeral.privateKey, relayHello.ephemeral, hash);
			this.opener = new FrameOpener(keys.relayToClient, protocolDefaults.maxBatchMessages);
			this.writer = new BatchWriter(new FrameSealer(keys.clientToRelay), line => this.socket.write(line), protocolDefaults);
			const identity = generateIdentity();
			const record = publicIdentity(identity, username);
			this.send({
				type: 'login',
				username,
				identity: toBase64Url(record.identity),
				x25519: toBase64Url(record.x25519),
				binding: toBase64Url(record.binding),
				proof: toBase64Url(loginProof(identity, relayHello.identity, hash, username)),
			});
			return;
		}
		this.frames += 1;
		const acks = [];
		for (const message of this.opener.open(frame)) {
			switch (message.type) {
				case 'welcome':
					this.welcomed();
					break;
				case 'message':
					this.messages += 1;
					acks.push(message.delivery);
					this.onMessage(message);
					break;
				case 'ping':
					this.send({type: 'pong', nonce: message.nonce});
					break;
				case 'error':
					if (message.fatal) this.failed(new Error(`${message.code}: ${message.message}`));
					else (this.onError ?? (error => this.failed(new Error(`${error.code}: ${error.message}`))))(message);
					break;
				default:
					this.onOther?.(message);
			}
		}
		for (let start = 0; start < acks.length; start += 1024) this.send({type: 'ack', deliveries: acks.slice(start, start + 1024)});
	}

	send(message) {
		this.writer.queue(message);
	}

	close() {
		this.socket.destroy();
	}
}

/** An opaque body of the size an end-to-end envelope of a 100-byte text has. */
export function prebuiltEnvelope(to) {
	return {type: 'send', id: '', to, kind: 'direct', ephemeral: 'A'.repeat(43), body: 'g'.repeat(280)};
}
