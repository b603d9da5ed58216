import type {Socket} from 'node:net';
import type {RawKeyPair} from '../crypto/raw-keys.js';
import {ProtocolError, type FatalErrorCode} from '../net/error-codes.js';
import {LineDecoder} from '../net/line-decoder.js';
import {errorMessage, parseClientMessage, type RelayMessage} from '../net/messages.js';
import {BatchWriter} from '../net/batch-writer.js';
import type {FrameOpening, FrameSealing} from '../net/secure-channel.js';
import type {AddressGroups} from './address-groups.js';
import {endOfTurn} from './end-of-turn.js';
import type {Logger} from './logger.js';
import {OutputPacing} from './output-pacing.js';
import type {RelayCore} from './relay-core.js';
import {answerHello} from './relay-hello.js';
import type {Session} from './session.js';
import type {RelayLimits} from './relay-options.js';

export type RelayIdentity = RawKeyPair;

/**
 * The one place where a socket meets the relay: bytes -> frames -> handshake -> encrypted batches
 * -> RelayCore, and RelayCore's messages back out, coalesced into one frame per microtask.
 */
export class RelayConnection {
	private readonly decoder: LineDecoder;
	private writer: BatchWriter<RelayMessage> | undefined;
	private sealer: FrameSealing | undefined;
	private opener: FrameOpening | undefined;
	private session: Session | undefined;
	private closing = false;
	private deadline: NodeJS.Timeout | undefined;
	private lastHeard = Date.now();
	/** When the frame now arriving began, while one is partly received. */
	private partialSince: number | undefined;
	private pingNonce = 0;
	/** Set once logged in: the server counts the connection as pending until then. */
	private loggedIn = false;
	/** Frames read but not yet opened while the session has as many messages waiting as it takes: at most one read's worth. */
	private heldFrames: string[] = [];
	/** Not reading the socket until the session has worked through what waits. */
	private paused = false;
	private readonly pacing: OutputPacing;
	readonly openedAt = Date.now();

	constructor(
		private readonly socket: Socket,
		private readonly core: RelayCore,
		private readonly identity: RelayIdentity,
		private readonly limits: RelayLimits,
		private readonly log: Logger,
		readonly remote: string,
		readonly address: AddressGroups,
		private readonly onLogin: () => void,
		/** Benchmarks only (relay-hello.ts). */
		private readonly plaintextFrames = false,
	) {
		// Before the handshake only a hello fits: parsing costs at most what a hello costs.
		this.decoder = new LineDecoder(limits.maxHelloBytes);
		this.pacing = new OutputPacing(socket, limits.maxBufferedBytes, () => this.writer?.pendingBytes ?? 0, () => this.writer?.flush());
		socket.setNoDelay(true);
		socket.on('data', chunk => this.receive(chunk));
		socket.on('error', error => this.log('socket_error', {remote, error: (error as NodeJS.ErrnoException).code ?? 'error'}));
		socket.on('close', () => this.closed());
		this.deadline = setTimeout(
			() => this.fail('handshake_timeout', `no client_hello within ${limits.handshakeTimeoutMs} ms`),
			limits.handshakeTimeoutMs,
		);
		this.log('connect', {remote});
	}

	/** Sends a fatal error (plaintext before the handshake, encrypted after) and closes. */
	fail(code: FatalErrorCode, message: string): void {
		if (this.closing) return;
		this.log('protocol_error', {remote: this.remote, code, user: this.session?.name ?? null});
		this.session?.end('error');
		const error = errorMessage(code, message);
		if (this.writer) {
			this.writer.queue(error);
			this.writer.flush();
		} else {
			this.socket.write(JSON.stringify(error) + '\n');
		}
		this.shutdownSocket();
	}

	/** Not logged in, and the relay needs its place for a newer connection. */
	evict(): void {
		this.fail('server_full', 'the relay is busy; try again in a moment');
	}

	/** Tells the client the relay is going down, then closes. */
	shutdown(reason: string): void {
		this.queue({type: 'shutdown', reason});
		this.session?.end('shutdown');
		this.close();
	}

	/** Sends what is queued, then closes. */
	close(): void {
		this.writer?.flush();
		this.shutdownSocket();
	}

	private receive(chunk: Buffer): void {
		if (this.closing) return;
		try {
			const frames = this.decoder.push(chunk);
			if (this.decoder.bufferedBytes === 0) this.partialSince = undefined;
			else this.partialSince ??= Date.now();
			this.handFrames(frames, 0);
		} catch (error) {
			this.failOn(error);
		}
	}

	/**
	 * Opens and hands on frames from `start`, until the session has as many messages waiting as it
	 * takes: then the rest wait here and the socket is not read until the session has worked
	 * through half of them (backpressure: nothing is dropped, and no queue grows without bound).
	 */
	private handFrames(frames: string[], start: number): void {
		for (let index = start; index < frames.length; index++) {
			if (this.closing) return;
			if (this.session?.full) {
				this.heldFrames = frames.slice(index);
				this.paused = true;
				this.socket.pause();
				return;
			}
			this.frame(frames[index]!);
		}
	}

	/** The session worked through what waited: the frames held go on, then the socket is read again. */
	private drained(): void {
		if (this.closing) return;
		const held = this.heldFrames;
		this.heldFrames = [];
		try {
			this.handFrames(held, 0);
		} catch (error) {
			this.failOn(error);
			return;
		}
		if (this.heldFrames.length > 0 || !this.paused) return;
		this.paused = false;
		// A frame cut off by the pause has had no chance to arrive: its time starts again.
		if (this.partialSince !== undefined) this.partialSince = Date.now();
		this.lastHeard = Date.now();
		this.socket.resume();
	}

	private failOn(error: unknown): void {
		if (error instanceof ProtocolError) {
			this.fail(error.code as FatalErrorCode, error.message);
			return;
		}
		// A bug must cost this one connection, never the relay and everyone on it.
		this.log('internal_error', {remote: this.remote, error: (error as Error).name});
		this.fail('bad_message', 'the relay could not process that frame');
	}

	private frame(frame: string): void {
		// Whole frames only: bytes trickled without a line feed do not keep a connection alive.
		this.lastHeard = Date.now();
		if (!this.opener) {
			this.handshake(frame);
			return;
		}
		for (const raw of this.opener.open(frame)) {
			if (this.closing) return;
			this.session!.handle(parseClientMessage(raw));
		}
	}

	/** The session logged in: it is no longer pending, and its frames may be as large as any. */
	private sessionLoggedIn(): void {
		if (this.loggedIn || this.closing) return;
		this.loggedIn = true;
		clearTimeout(this.deadline);
		this.deadline = undefined;
		this.decoder.setLimit(this.limits.maxFrameBytes);
		this.onLogin();
	}

	private handshake(frame: string): void {
		const answer = answerHello(frame, this.identity, this.limits.maxBatchMessages, this.plaintextFrames);
		this.decoder.setLimit(this.limits.maxPreLoginFrameBytes);
		this.sealer = answer.sealer;
		this.opener = answer.opener;
		// relay_hello and the login_request frame leave in one write
		this.socket.cork();
		this.socket.write(answer.relayHello);
		// One frame for what a turn answers: the answers to one frame's messages come over many microtasks.
		this.writer = new BatchWriter(this.sealer, frame => this.write(frame), this.limits, endOfTurn);
		clearTimeout(this.deadline);
		this.deadline = setTimeout(() => {
			if (this.session?.name === undefined) this.fail('login_timeout', `no login within ${this.limits.loginTimeoutMs} ms`);
		}, this.limits.loginTimeoutMs);
		this.session = this.core.openSession(
			{
				send: message => this.queue(message),
				sendJson: json => {
					// relay-json.ts writes ASCII only: as many bytes as characters
					if (!this.closing && !this.socket.destroyed) this.writer?.queueSerialized(json, json.length);
				},
				fail: (code, message) => this.fail(code, message),
				close: () => this.close(),
				whenWritable: callback => this.pacing.whenWritable(callback),
				hasRoom: () => this.pacing.hasRoom(),
				loggedIn: () => this.sessionLoggedIn(),
				drained: () => this.drained(),
			},
			{remote: this.remote, address: this.address, transcriptHash: answer.transcriptHash},
		);
		this.writer.flush();
		this.socket.uncork();
	}

	private write(frame: string): void {
		if (!this.socket.writable) return;
		this.socket.write(frame);
		if (this.socket.writableLength > this.limits.maxBufferedBytes) {
			// Its buffer is full, so there is no room for an error frame either.
			this.log('slow_reader', {remote: this.remote, user: this.session?.name ?? null, buffered: this.socket.writableLength});
			this.session?.end('error');
			this.closing = true;
			this.writer?.discard();
			this.socket.destroy();
		}
	}

	/**
	 * Called for every connection by one timer of the server's, every min(heartbeatIntervalMs,
	 * idleTimeoutMs), rather than a timer per connection: pings a quiet peer, drops a silent one.
	 */
	checkHeartbeat(now: number): void {
		if (!this.opener || this.closing) return;
		// Not read from, so not silent: the relay is working through what the client sent.
		if (this.paused) this.lastHeard = now;
		const {heartbeatIntervalMs, idleTimeoutMs, partialFrameTimeoutMs} = this.limits;
		const quiet = now - this.lastHeard;
		if (this.partialSince !== undefined && !this.paused && now - this.partialSince >= partialFrameTimeoutMs) {
			this.session?.end('timeout');
			this.fail('idle_timeout', `a frame took more than ${partialFrameTimeoutMs} ms to arrive`);
		} else if (quiet >= idleTimeoutMs) {
			this.session?.end('timeout');
			this.fail('idle_timeout', `nothing received for ${idleTimeoutMs} ms`);
		} else if (quiet >= heartbeatIntervalMs) {
			this.queue({type: 'ping', nonce: this.pingNonce++});
		}
	}

	private queue(message: RelayMessage): void {
		if (!this.closing && !this.socket.destroyed) this.writer?.queue(message);
	}

	private shutdownSocket(): void {
		if (this.closing) return;
		this.closing = true;
		this.writer?.discard();
		this.socket.end();
		// A peer that never reads would keep a half-closed socket forever.
		setTimeout(() => this.socket.destroy(), 2000).unref();
	}

	private closed(): void {
		clearTimeout(this.deadline);
		this.session?.end('disconnected');
		// Nothing more is sealed or opened for a closed socket: the session keys go.
		this.closing = true;
		this.writer?.discard();
		this.sealer?.dispose();
		this.opener?.dispose();
		this.log('disconnect', {remote: this.remote, user: this.session?.name ?? null});
	}
}
