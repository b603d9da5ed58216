import type {Readable, Writable} from 'node:stream';
import {relayAddress} from '../client/known-relays.js';
import type {ChatConnection} from '../client/client-events.js';
import {sanitizeText} from '../sanitize.js';
import {CommandRunner} from './command-runner.js';
import {parseCommand, type JsonCommand} from './commands.js';
import {encodeLine} from './encode-line.js';
import {forwardEvents} from './event-lines.js';
import {exitCodeFor, jsonExitCodes} from './exit-codes.js';
import {defaultMaxLineBytes, InputLines} from './input-lines.js';

export type JsonSessionLimits = {
	/** The longest input line, in bytes. */
	maxLineBytes: number;
	/**
	 * Commands read before the first login that wait for it, and the bytes of their lines; past
	 * either, stdin is not read until it (the rest of the read that crossed it waits unparsed).
	 */
	maxQueuedCommands: number;
	maxQueuedBytes: number;
	/** Output nobody reads yet: past it the process ends (exit 1) rather than hold more. */
	maxUnreadOutputBytes: number;
	/** How long quitting waits for the relay to take what was just sent. */
	settleTimeoutMs: number;
};

export const defaultJsonSessionLimits: JsonSessionLimits = {
	maxLineBytes: defaultMaxLineBytes,
	maxQueuedCommands: 1000,
	maxQueuedBytes: 1024 * 1024,
	maxUnreadOutputBytes: 64 * 1024 * 1024,
	settleTimeoutMs: 5000,
};

/** A reason printed on stderr is cut to this. */
const maxReasonChars = 400;

export type JsonSessionOptions = {
	connection: ChatConnection;
	username: string;
	input: Readable;
	output: Writable;
	/** Where the reason for an exit other than 0 is written, one line. */
	errors: Writable;
	limits?: Partial<JsonSessionLimits>;
};

type Outcome = {exit: number; message?: string};

/**
 * The --json mode of one process: logs `username` in, reads one command per line from `input`,
 * writes events and answers to `output` one JSON object per line. `done` resolves with the exit
 * code once the client is closed. Nothing read from `input` ends it but quit and the input's end.
 */
export class JsonSession {
	readonly done: Promise<number>;
	readonly #connection: ChatConnection;
	readonly #options: JsonSessionOptions;
	readonly #limits: JsonSessionLimits;
	readonly #lines: InputLines;
	readonly #runner: CommandRunner;
	readonly #queued: JsonCommand[] = [];
	#queuedBytes = 0;
	/** Lines read past a full queue before the first login, unparsed: at most the rest of one read. */
	readonly #unread: Array<{type: 'line'; text: string} | {type: 'too_long'} | {type: 'end'}> = [];
	/** The input ended while lines still wait unread: the quit it means comes after them. */
	#inputEnded = false;
	#welcomed = false;
	/** quit was read, or the input ended: nothing more is read. */
	#inputOver = false;
	#failure: Outcome | undefined;
	#closing: Promise<void> | undefined;
	#outputGone = false;
	/** Why the last connection failed, while the client tries again. */
	#trouble = 'the relay could not be reached';
	#resolve!: (code: number) => void;
	#finished = false;

	constructor(options: JsonSessionOptions) {
		this.#options = options;
		this.#connection = options.connection;
		this.#limits = {...defaultJsonSessionLimits, ...options.limits};
		this.#lines = new InputLines(this.#limits.maxLineBytes);
		this.done = new Promise(resolve => {
			this.#resolve = resolve;
		});
		const connection = this.#connection;
		forwardEvents(connection, line => this.#write(line));
		this.#runner = new CommandRunner(connection, line => this.#write(line));
		connection.on('relay-unknown', (relay, decide) => {
			const address = sanitizeText(relayAddress(relay.host, relay.port));
			this.#fail(
				jsonExitCodes.untrustedRelay,
				`the relay at ${address} is not known on this device (fingerprint ${relay.fingerprint}), and a script cannot answer whether to trust it: check the fingerprint with the relay's operator, then pass --trust FINGERPRINT`,
			);
			decide(false);
		});
		connection.on('relay-changed', (relay, pinned) => {
			const address = sanitizeText(relayAddress(relay.host, relay.port));
			this.#fail(jsonExitCodes.untrustedRelay, `the relay at ${address} presents another key (fingerprint ${relay.fingerprint}) than the one pinned (${pinned}): refused`);
		});
		connection.on('login-request', () => connection.login(options.username));
		connection.on('login-error', ({code, message}) => {
			this.#fail(exitCodeFor(code), message);
			void this.#shutdown();
		});
		connection.on('welcome', () => this.#welcome());
		connection.on('reconnecting', ({message}) => {
			this.#trouble = message;
			this.#giveUpIfUnreachable();
		});
		connection.on('closed', ({code, message}) => {
			if (this.#closing === undefined) this.#fail(exitCodeFor(code), message);
			void (this.#closing ?? Promise.resolve()).then(() => this.#finish());
		});
		options.output.on('drain', () => this.#flowControl());
		options.output.on('error', () => {
			this.#outputGone = true;
			this.#fail(jsonExitCodes.error, 'stdout was closed');
			void this.#shutdown();
		});
		options.input.on('data', (chunk: Buffer | string) => this.#read(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
		options.input.on('end', () => this.#endOfInput());
		options.input.on('error', () => this.#endOfInput());
	}

	/** Connects; the first welcome line says the session is ready (commands read before it wait for it). */
	start(): this {
		this.#connection.connect();
		return this;
	}

	/** As a quit command: what was sent goes out, the relay is told, the database closed. */
	quit(): void {
		this.#inputOver = true;
		this.#queued.length = 0;
		this.#unread.length = 0;
		this.#flowControl();
		void this.#shutdown();
	}

	#read(chunk: Buffer): void {
		if (this.#inputOver) return;
		for (const line of this.#lines.push(chunk)) this.#line(line);
		this.#flowControl();
	}

	#endOfInput(): void {
		if (this.#inputOver) return;
		for (const line of this.#lines.end()) this.#line(line);
		if (this.#inputOver) return;
		if (this.#unread.length === 0) {
			this.#command({type: 'quit', ref: null});
			return;
		}
		this.#inputEnded = true;
		this.#unread.push({type: 'end'});
		if (this.#connection.status === 'reconnecting') this.#giveUpIfUnreachable();
	}

	#line(line: {type: 'line'; text: string} | {type: 'too_long'}): void {
		if (this.#inputOver) return;
		if (!this.#welcomed && this.#queueFull()) {
			this.#unread.push(line);
			return;
		}
		if (!this.#welcomed && line.type === 'line') this.#queuedBytes += Buffer.byteLength(line.text);
		if (line.type === 'too_long') {
			this.#write({type: 'error', ref: null, code: 'line_too_long', message: `a command line is at most ${this.#limits.maxLineBytes} bytes: this one was dropped`});
			return;
		}
		if (line.text.trim() === '') return;
		const parsed = parseCommand(line.text);
		if (parsed.ok) this.#command(parsed.command);
		else this.#write({type: 'error', ref: parsed.ref, code: parsed.code, message: parsed.message});
	}

	#command(command: JsonCommand): void {
		if (command.type === 'quit') this.#inputOver = true;
		if (!this.#welcomed) {
			this.#queued.push(command);
			if (this.#connection.status === 'reconnecting') this.#giveUpIfUnreachable();
			return;
		}
		if (command.type === 'quit') void this.#shutdown();
		else this.#runner.run(command);
	}

	/** Nobody is left to stop a process that waits for a relay it cannot reach once its input is over. */
	#giveUpIfUnreachable(): void {
		if (this.#welcomed || !(this.#inputOver || this.#inputEnded)) return;
		this.#fail(jsonExitCodes.error, `${this.#trouble} (input ended before the first login: not trying again)`);
		void this.#shutdown();
	}

	#welcome(): void {
		if (this.#welcomed) return;
		this.#welcomed = true;
		for (const command of this.#queued.splice(0)) this.#command(command);
		for (const line of this.#unread.splice(0)) {
			if (line.type === 'end') this.#command({type: 'quit', ref: null});
			else this.#line(line);
		}
		this.#queuedBytes = 0;
		this.#flowControl();
	}

	#queueFull(): boolean {
		return this.#queued.length >= this.#limits.maxQueuedCommands || this.#queuedBytes >= this.#limits.maxQueuedBytes;
	}

	/** stdin is read while commands can be taken: not past quit, nor while output waits for its reader. */
	#flowControl(): void {
		const {input, output} = this.#options;
		const full = !this.#welcomed && this.#queueFull();
		if (this.#inputOver || full || output.writableNeedDrain) input.pause();
		else input.resume();
	}

	#write(value: unknown): void {
		if (this.#outputGone) return;
		const {output} = this.#options;
		output.write(encodeLine(value));
		if (output.writableLength > this.#limits.maxUnreadOutputBytes && this.#failure === undefined) {
			this.#outputGone = true;
			this.#fail(jsonExitCodes.error, `stdout is not being read: more than ${this.#limits.maxUnreadOutputBytes} bytes wait`);
			void this.#shutdown();
		}
		this.#flowControl();
	}

	#fail(exit: number, message: string): void {
		this.#failure ??= {exit, message};
	}

	#shutdown(): Promise<void> {
		this.#closing ??= (async () => {
			this.#inputOver = true;
			this.#flowControl();
			await this.#runner.settled(this.#limits.settleTimeoutMs);
			await this.#connection.close();
			this.#finish();
		})();
		return this.#closing;
	}

	#finish(): void {
		if (this.#finished || this.#connection.status !== 'closed') return;
		this.#finished = true;
		this.#runner.dispose();
		this.#options.input.pause();
		const outcome = this.#failure ?? {exit: jsonExitCodes.ok};
		if (outcome.message !== undefined) this.#options.errors.write(`im-tui: ${sanitizeText(outcome.message).slice(0, maxReasonChars)}\n`);
		this.#resolve(outcome.exit);
	}
}
