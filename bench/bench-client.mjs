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
import {FrameOpener, FrameSealer, PlaintextFrames} from '../dist/net/secure-channel.js';

/** An identity and its public record for `username`, made ahead so a timed login does not pay for them. */
export function prepareIdentity(username) {
	const keys = generateIdentity();
	return {keys, record: publicIdentity(keys, username)};
}

/**
 * The `login` for `username` with its keys and public record, proved for the connection whose
 * transcript hash is `hash` (another hash makes a bad proof); `roster: false` logs in headless.
 */
export function loginMessage({username, keys, record}, relayIdentity, hash, {roster = true} = {}) {
	return {
		type: 'login',
		username,
		identity: toBase64Url(record.identity),
		x25519: toBase64Url(record.x25519),
		binding: toBase64Url(record.binding),
		proof: toBase64Url(loginProof(keys, relayIdentity, hash, username)),
		...(roster ? {} : {roster: false}),
	};
}

export class BenchClient {
	frames = 0;
	messages = 0;
	/** Relay messages by type, pings and messages included: what an idle client was sent. */
	received = new Map();
	onMessage = () => {};
	/** Set once the connection ends, for whatever reason. */
	closed = false;
	/** Users the relay listed at login so far: the welcome's and the directory pages'... */
	directoryUsers = 0;
	/** ...and how many it announced in the welcome (its users and `more`). */
	directoryAnnounced = 0;

	/**
	 * Resolves once logged in (the welcome arrived), or with `login: false` once the handshake is
	 * done (the relay's hello verified, session keys derived) without logging in.
	 *
	 * options:
	 *   roster: false    log in as a headless client: an empty welcome, no directory, no presence
	 *   plaintext: true  batch frames without Fernet, for a relay started with transportCrypto false
	 *   identity         from prepareIdentity(username) or generateIdentity(): not made while timed
	 *   login: false     stop after the handshake
	 *   timeoutMs        give up (and close) if not done by then; the error says which step was missing
	 */
	static async connect(port, username, options = {}) {
		const client = new BenchClient();
		await client.#open(port, username, options);
		return client;
	}

	async #open(port, username, options) {
		const socket = connect({host: '127.0.0.1', port});
		socket.setNoDelay(true);
		this.socket = socket;
		const ready = new Promise((resolve, reject) => {
			this.ready = resolve;
			this.failed = reject;
		});
		// A connection that cannot go on: before the welcome this fails connect(), after it just ends.
		const broken = error => {
			this.error ??= error;
			this.failed(error);
			socket.destroy();
		};
		socket.on('error', broken);
		socket.on('close', () => {
			this.closed = true;
			this.failed(new Error('the relay closed the connection'));
		});
		const deadline =
			options.timeoutMs &&
			setTimeout(() => {
				const step = this.writer ? 'the welcome' : socket.connecting ? 'the TCP connection' : "the relay's hello";
				broken(new Error(`no ${step} within ${options.timeoutMs} ms`));
			}, options.timeoutMs);
		try {
			await Promise.race([new Promise(resolve => socket.once('connect', resolve)), ready]);
		} catch (error) {
			clearTimeout(deadline);
			throw error;
		}
		const ephemeral = generateRawKeyPair('x25519');
		const hello = newClientHello(ephemeral);
		const decoder = new LineDecoder(protocolDefaults.maxFrameBytes);
		socket.on('data', chunk => {
			// Whatever the relay sends, a bad frame costs this connection, never the load generator.
			try {
				for (const frame of decoder.push(chunk)) this.#frame(frame, hello, ephemeral, username, options);
			} catch (error) {
				broken(error);
			}
		});
		socket.write(encodeClientHello(hello) + '\n');
		try {
			await ready;
		} finally {
			clearTimeout(deadline);
		}
	}

	#frame(frame, hello, ephemeral, username, options) {
		if (!this.opener) {
			if (frame.includes('"type":"error"')) throw new Error(`the relay refused the connection: ${frame}`);
			const relayHello = parseRelayHello(frame);
			const hash = transcriptHash(hello, relayHello.identity, relayHello.ephemeral);
			if (!verifyTranscript(relayHello.identity, hash, relayHello.signature)) throw new Error('bad relay signature');
			const keys = deriveSessionKeys(ephemeral.privateKey, relayHello.ephemeral, hash);
			if (options.plaintext) {
				const frames = new PlaintextFrames(protocolDefaults.maxBatchMessages);
				this.opener = frames;
				this.writer = new BatchWriter(frames, line => this.socket.write(line), this.#batchLimits(options));
			} else {
				this.opener = new FrameOpener(keys.relayToClient, protocolDefaults.maxBatchMessages);
				this.writer = new BatchWriter(new FrameSealer(keys.clientToRelay), line => this.socket.write(line), this.#batchLimits(options));
			}
			if (options.login === false) {
				this.ready();
				return;
			}
			const prepared = options.identity ?? generateIdentity();
			const identity = prepared.keys ?? prepared;
			const record = prepared.record ?? publicIdentity(identity, username);
			this.send(loginMessage({username, keys: identity, record}, relayHello.identity, hash, {roster: options.roster !== false}));
			return;
		}
		this.frames += 1;
		const acks = [];
		for (const message of this.opener.open(frame)) {
			const type = typeof message?.type === 'string' ? message.type : '?';
			this.received.set(type, (this.received.get(type) ?? 0) + 1);
			switch (type) {
				case 'welcome':
					this.directoryUsers += message.users?.length ?? 0;
					this.directoryAnnounced = (message.users?.length ?? 0) + (message.more ?? 0);
					this.ready();
					this.onWelcome?.(message);
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
				case 'directory':
					this.directoryUsers += message.users?.length ?? 0;
					this.onOther?.(message);
					break;
				default:
					this.onOther?.(message);
			}
		}
		for (let start = 0; start < acks.length; start += 1024) this.send({type: 'ack', deliveries: acks.slice(start, start + 1024)});
	}

	/** `maxBatchMessages: 1` sends one message per frame, for a relay started with the same limit. */
	#batchLimits(options) {
		return {...protocolDefaults, ...(options.maxBatchMessages ? {maxBatchMessages: options.maxBatchMessages} : {})};
	}

	/** Sends a message already serialized: the load generator's envelopes are built as text. */
	sendJson(json) {
		this.writer.queueSerialized(json);
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

/** The same envelope as JSON text with the id left to fill in: `${before}${id}${after}`. */
export function prebuiltEnvelopeJson(to) {
	const [before, after] = JSON.stringify({...prebuiltEnvelope(to), id: '\u0000'}).split('\\u0000');
	return {before, after};
}
