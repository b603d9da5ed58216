import {connect, type Socket} from 'node:net';
import {generateRawKeyPair, type RawKeyPair} from '../crypto/raw-keys.js';
import {BatchWriter} from '../net/batch-writer.js';
import {ProtocolError} from '../net/error-codes.js';
import {
	deriveSessionKeys,
	encodeClientHello,
	newClientHello,
	parseRelayHello,
	transcriptHash,
	verifyTranscript,
	type ClientHello,
} from '../net/handshake.js';
import {LineDecoder} from '../net/line-decoder.js';
import {parseRelayMessage, type ClientMessage, type RelayMessage} from '../net/messages.js';
import {FrameOpener, FrameSealer} from '../net/secure-channel.js';
import {tryPlaintextError} from './unverified-refusal.js';
import {addressAttemptMs, relayLookup} from './relay-addresses.js';

const maxHeldFrames = 16;

export type ConnectionLimits = Record<'maxFrameBytes' | 'maxBatchMessages' | 'handshakeTimeoutMs' | 'heartbeatIntervalMs' | 'idleTimeoutMs', number>;

/** What the relay proved in its hello: its identity key and the transcript it signed. */
export type RelayHandshake = {relayIdentity: Buffer; transcriptHash: Buffer};

/** What a connection tells the client that opened it. */
export type ConnectionListener = {
	/** The socket failed, before or after the handshake (the errno code, or 'error'). */
	socketError(code: string): void;
	socketClosed(): void;
	/** A plaintext error frame instead of the relay's hello: the relay's claim, unauthenticated. */
	plaintextRefusal(refusal: {code: string; message: string}): void;
	/** The relay's hello verified: the secure channel is up, the relay's key not yet checked against its pin. */
	handshake(handshake: RelayHandshake): void;
	message(message: RelayMessage): void;
	/** The connection must end: a protocol error, no answer in time, too much held. */
	fail(code: string, message: string): void;
	/** The nonce of the next heartbeat ping. */
	nextPingNonce(): number;
};

/**
 * One connection to a relay: TCP, the handshake, the secure channel (frames in, batches out) and
 * the heartbeat. It knows nothing of pins, logins or reconnects: ChatClient decides those, and
 * ends the connection (end()).
 */
export class RelayConnection {
	/** Set once the relay's hello verified; the writer is then ready. */
	handshake: RelayHandshake | undefined;
	private readonly socket: Socket;
	private readonly decoder: LineDecoder;
	private ephemeral: RawKeyPair | undefined;
	private hello: ClientHello | undefined;
	private opener: FrameOpener | undefined;
	private sealer: FrameSealer | undefined;
	private writer: BatchWriter<ClientMessage> | undefined;
	/** While the user decides whether to trust the relay, frames wait here (see hold). */
	private holding = false;
	private held: string[] = [];
	private readonly deadline: NodeJS.Timeout;
	private heartbeat: NodeJS.Timeout | undefined;
	private lastHeard = 0;
	private ended = false;

	constructor(
		host: string,
		port: number,
		private readonly limits: ConnectionLimits,
		private readonly listener: ConnectionListener,
	) {
		this.decoder = new LineDecoder(limits.maxFrameBytes);
		const socket = connect({host, port, lookup: relayLookup, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: addressAttemptMs});
		this.socket = socket;
		socket.setNoDelay(true);
		socket.on('connect', () => {
			this.ephemeral = generateRawKeyPair('x25519');
			this.hello = newClientHello(this.ephemeral);
			socket.write(encodeClientHello(this.hello) + '\n');
		});
		socket.on('data', chunk => this.receive(chunk));
		socket.on('error', error => listener.socketError((error as NodeJS.ErrnoException).code ?? 'error'));
		socket.on('close', () => listener.socketClosed());
		this.deadline = setTimeout(() => listener.fail('handshake_timeout', 'the relay did not answer the handshake in time'), limits.handshakeTimeoutMs);
	}

	/** The secure channel is up: messages can be queued. */
	get ready(): boolean {
		return this.writer !== undefined;
	}

	get destroyed(): boolean {
		return this.socket.destroyed;
	}

	queue(message: ClientMessage): void {
		if (!this.writer || this.ended) throw new Error('not connected');
		this.writer.queue(message);
	}

	/** Says goodbye to the relay, at once, if the channel is up. */
	sayBye(): void {
		if (!this.writer) return;
		this.writer.queue({type: 'bye'});
		this.writer.flush();
	}

	/** Frames from now on wait (see hold) until release(). */
	holdFrames(): void {
		this.holding = true;
	}

	/** The relay is trusted: the frames that waited are read, in order. */
	release(): void {
		this.holding = false;
		const held = this.held;
		this.held = [];
		for (const frame of held) if (!this.ended) this.encryptedFrame(frame);
	}

	startHeartbeat(): void {
		const {heartbeatIntervalMs, idleTimeoutMs} = this.limits;
		this.lastHeard = Date.now();
		this.heartbeat = setInterval(() => {
			const quiet = Date.now() - this.lastHeard;
			if (quiet >= idleTimeoutMs) this.listener.fail('idle_timeout', `the relay sent nothing for ${Math.round(quiet / 1000)} s`);
			else if (quiet >= heartbeatIntervalMs) this.queue({type: 'ping', nonce: this.listener.nextPingNonce()});
		}, Math.min(heartbeatIntervalMs, idleTimeoutMs) / 2);
		this.heartbeat.unref();
	}

	/** Ends the connection for good; `destroy` false leaves the socket to the caller (to end it gracefully). */
	end(destroy: boolean): void {
		this.ended = true;
		clearTimeout(this.deadline);
		clearInterval(this.heartbeat);
		this.writer?.discard();
		// nothing is sealed or opened on this connection again (queue and receive check `ended`)
		this.sealer?.dispose();
		this.opener?.dispose();
		if (destroy) this.socket.destroy();
	}

	/** Half-closes the socket, and destroys it a second later if the relay has not closed it; resolves once closed. */
	async endSocket(): Promise<void> {
		const socket = this.socket;
		const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
		socket.end();
		setTimeout(() => socket.destroy(), 1000).unref();
		await closed;
	}

	private receive(chunk: Buffer): void {
		if (this.ended) return;
		try {
			for (const frame of this.decoder.push(chunk)) {
				if (this.ended) return;
				if (!this.handshake) this.relayHello(frame);
				else if (this.holding) this.hold(frame);
				else this.encryptedFrame(frame);
			}
		} catch (error) {
			if (error instanceof ProtocolError) {
				this.listener.fail(error.code, error.message);
				return;
			}
			throw error;
		}
	}

	private relayHello(frame: string): void {
		const plaintextError = tryPlaintextError(frame);
		if (plaintextError) {
			this.listener.plaintextRefusal(plaintextError);
			return;
		}
		const hello = parseRelayHello(frame);
		const hash = transcriptHash(this.hello!, hello.identity, hello.ephemeral);
		if (!verifyTranscript(hello.identity, hash, hello.signature)) {
			throw new ProtocolError('handshake_failed', 'the relay signature does not verify');
		}
		const keys = deriveSessionKeys(this.ephemeral!.privateKey, hello.ephemeral, hash);
		this.handshake = {relayIdentity: hello.identity, transcriptHash: hash};
		clearTimeout(this.deadline);
		this.opener = new FrameOpener(keys.relayToClient, this.limits.maxBatchMessages);
		this.sealer = new FrameSealer(keys.clientToRelay);
		const socket = this.socket;
		this.writer = new BatchWriter(this.sealer, frame => socket.writable && socket.write(frame), this.limits);
		this.listener.handshake(this.handshake);
	}

	/**
	 * Frames that arrive while the user decides wait, a few at most: an honest relay sends one
	 * (login_request), so a relay that floods before it is trusted is cut off rather than buffered.
	 */
	private hold(frame: string): void {
		if (this.held.length >= maxHeldFrames) {
			this.listener.fail('refused_relay', 'the relay sent too much before it was trusted');
			return;
		}
		this.held.push(frame);
	}

	private encryptedFrame(frame: string): void {
		this.lastHeard = Date.now();
		try {
			for (const raw of this.opener!.open(frame)) {
				if (this.ended) return;
				this.listener.message(parseRelayMessage(raw));
			}
		} catch (error) {
			if (error instanceof ProtocolError) {
				this.listener.fail(error.code, error.message);
				return;
			}
			throw error;
		}
	}
}
