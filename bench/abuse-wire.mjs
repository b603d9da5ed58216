// The attackers' side of the wire for `npm run bench:abuse`: a connection from a chosen source
// address that speaks the real handshake and login (dist/ modules) but never throws. Whatever the
// relay answers (a plaintext error before the handshake, an encrypted one after, a close) is
// counted in a Tally and the attack goes on.
import {connect} from 'node:net';
import {randomBytes} from 'node:crypto';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {generateRawKeyPair} from '../dist/crypto/raw-keys.js';
import {BatchWriter} from '../dist/net/batch-writer.js';
import {deriveSessionKeys, encodeClientHello, newClientHello, parseRelayHello, transcriptHash, verifyTranscript} from '../dist/net/handshake.js';
import {protocolDefaults} from '../dist/net/limits.js';
import {LineDecoder} from '../dist/net/line-decoder.js';
import {FrameOpener, FrameSealer} from '../dist/net/secure-channel.js';
import {loginMessage, prepareIdentity} from './bench-client.mjs';

/** What one attack did and what the relay refused, by error code. */
export class Tally {
	refused = new Map();
	counts = new Map();

	refuse(code) {
		this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
	}

	add(name, amount = 1) {
		this.counts.set(name, (this.counts.get(name) ?? 0) + amount);
	}

	get(name) {
		return this.counts.get(name) ?? 0;
	}

	toJSON() {
		return {refused: Object.fromEntries(this.refused), counts: Object.fromEntries(this.counts)};
	}
}

/** A fresh random username: 24 characters of a-z and 0-9. */
export function randomUsername(prefix = 'a') {
	return (prefix + randomBytes(16).toString('hex')).slice(0, 24);
}

/** A fresh identity and its public record for `username`. */
export function freshIdentity(username) {
	return {username, ...prepareIdentity(username)};
}

/** `length` characters of random base64url text: an opaque body the relay accepts. */
export function randomBody(length) {
	return toBase64Url(randomBytes(Math.ceil((length * 3) / 4) + 3)).slice(0, length);
}

export class AttackConnection {
	/** Set when the socket is gone, for whatever reason. */
	closed = false;
	/** The code of the fatal error the relay sent, if any. */
	fatal;
	/** True once the relay's hello verified and the session keys are derived. */
	handshaken = false;
	loggedIn = false;
	/** Called with every decrypted relay message after the handshake. */
	onMessage = () => {};
	onClose = () => {};

	/**
	 * Connects from `localAddress` to the relay on 127.0.0.1:`port`. Nothing is sent until
	 * handshake() (or raw writes on `socket`). `tally` counts the relay's errors and drops.
	 */
	constructor(port, localAddress, tally) {
		this.tally = tally;
		this.socket = connect({host: '127.0.0.1', port, localAddress});
		this.socket.setNoDelay(true);
		this.connected = new Promise(resolve => {
			this.socket.once('connect', () => resolve(true));
			this.socket.once('close', () => resolve(false));
		});
		this.ended = new Promise(resolve => this.socket.once('close', resolve));
		this.socket.on('error', error => {
			this.socketError ??= error.code ?? 'error';
		});
		this.socket.on('close', () => {
			this.closed = true;
			if (this.fatal === undefined && !this.closedByUs) {
				this.tally.refuse(this.socketError ? `socket ${this.socketError}` : 'dropped (no error)');
			}
			this.loginWaiter?.('closed');
			this.handshakeWaiter?.(false);
			this.onClose();
		});
		this.decoder = new LineDecoder(protocolDefaults.maxFrameBytes + 1024);
		this.socket.on('data', chunk => {
			if (this.ignoreInput) return;
			try {
				for (const frame of this.decoder.push(chunk)) this.#frame(frame);
			} catch (error) {
				this.tally.refuse(`unreadable (${error?.code ?? error?.message ?? error})`);
				this.close();
			}
		});
	}

	/** Sends a client hello; resolves true once the relay's hello is verified, false otherwise. */
	handshake() {
		if (this.closed) return Promise.resolve(false);
		this.ephemeral = generateRawKeyPair('x25519');
		this.hello = newClientHello(this.ephemeral);
		const done = new Promise(resolve => {
			this.handshakeWaiter = resolve;
		});
		this.write(encodeClientHello(this.hello) + '\n');
		return done;
	}

	/**
	 * Logs in as `prepared` (from freshIdentity). Resolves 'welcome', the code of the error the
	 * relay answered with, or 'closed'. `badProof` signs a wrong transcript (the binding stays valid).
	 */
	login(prepared, {badProof = false, roster = false} = {}) {
		if (this.closed || !this.writer) return Promise.resolve('closed');
		const done = new Promise(resolve => {
			this.loginWaiter = result => {
				this.loginWaiter = undefined;
				resolve(result);
			};
		});
		this.send(this.loginMessage(prepared, {badProof, roster}));
		return done;
	}

	loginMessage(prepared, {badProof = false, roster = false} = {}) {
		return loginMessage(prepared, this.relayIdentity, badProof ? randomBytes(32) : this.transcriptHash, {roster});
	}

	/** Resolves on the next login answer without sending one (for logins sent by hand). */
	nextLoginAnswer() {
		return new Promise(resolve => {
			this.loginWaiter = result => {
				this.loginWaiter = undefined;
				resolve(result);
			};
		});
	}

	send(message) {
		if (!this.closed && this.writer) this.writer.queue(message);
	}

	sendJson(json) {
		if (!this.closed && this.writer) this.writer.queueSerialized(json, json.length);
	}

	write(data) {
		if (!this.closed && !this.socket.destroyed) this.socket.write(data);
	}

	/** Bytes written but not yet taken by the kernel: back off while this is large. */
	get backlog() {
		return this.socket.writableLength;
	}

	close() {
		this.closedByUs = true;
		this.socket.destroy();
	}

	/** Says `bye` (the relay then closes the connection: not counted as a drop). */
	leave() {
		this.closedByUs = true;
		if (this.writer) this.writer.queue({type: 'bye'});
	}

	#frame(frame) {
		if (!this.opener) {
			let parsed;
			try {
				parsed = JSON.parse(frame);
			} catch {
				parsed = undefined;
			}
			if (parsed?.type === 'error') {
				this.fatal = String(parsed.code);
				this.tally.refuse(this.fatal);
				this.close();
				return;
			}
			if (!this.hello) {
				this.tally.refuse('unexpected frame before hello');
				this.close();
				return;
			}
			const relayHello = parseRelayHello(frame);
			const hash = transcriptHash(this.hello, relayHello.identity, relayHello.ephemeral);
			if (!verifyTranscript(relayHello.identity, hash, relayHello.signature)) throw new Error('bad relay signature');
			const keys = deriveSessionKeys(this.ephemeral.privateKey, relayHello.ephemeral, hash);
			this.transcriptHash = hash;
			this.relayIdentity = relayHello.identity;
			this.opener = new FrameOpener(keys.relayToClient, protocolDefaults.maxBatchMessages);
			this.writer = new BatchWriter(new FrameSealer(keys.clientToRelay), line => this.write(line), protocolDefaults);
			this.handshaken = true;
			this.handshakeWaiter?.(true);
			this.handshakeWaiter = undefined;
			return;
		}
		for (const message of this.opener.open(frame)) {
			switch (message?.type) {
				case 'welcome':
					this.loggedIn = true;
					this.loginWaiter?.('welcome');
					break;
				case 'error':
					this.tally.refuse(String(message.code));
					if (message.fatal) this.fatal = String(message.code);
					this.loginWaiter?.(String(message.code));
					break;
				case 'ping':
					this.send({type: 'pong', nonce: message.nonce});
					break;
			}
			this.onMessage(message);
		}
	}
}

/**
 * A connection from `address` (opened through ctx.open) that has done the handshake and logged
 * in, or undefined if the relay refused either or `timeoutMs` passed first. `tally` counts its
 * refusals (ctx.tally unless told).
 */
export async function loggedInConnection(ctx, address, prepared, {timeoutMs = 10_000, tally = ctx.tally, ...options} = {}) {
	const connection = ctx.open(address, tally);
	const timeout = setTimeout(() => {
		tally.add('login timed out (ours)');
		connection.close();
	}, timeoutMs);
	try {
		if (!(await connection.connected) || !(await connection.handshake())) {
			connection.close();
			return undefined;
		}
		const answer = await connection.login(prepared, options);
		if (answer === 'welcome') return connection;
		connection.close();
		return undefined;
	} finally {
		clearTimeout(timeout);
	}
}

/** Resolves after `ms`. */
export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
