import {Fernet} from '../crypto/fernet.js';
import {ProtocolError} from './error-codes.js';
import {protocolVersion} from './handshake.js';

/** Encrypted batch frames (PROTOCOL.md section 3): one direction each, counting seq from 0. */
export type SealOptions = {
	/** Injected for the worked example; a fresh random IV otherwise. */
	iv?: () => Buffer;
	/** Seconds since the epoch for the Fernet timestamp. */
	now?: () => number;
};

/** Turns messages already JSON text into one frame, counting seq from 0. */
export interface FrameSealing {
	sealSerialized(messages: readonly string[]): string;
	/** Forgets the session key once the connection is closed. */
	dispose(): void;
}

/** Turns one frame back into its messages, still unchecked; throws ProtocolError. */
export interface FrameOpening {
	open(frame: string): unknown[];
	/** Forgets the session key once the connection is closed. */
	dispose(): void;
}

export class FrameSealer implements FrameSealing {
	private readonly fernet: Fernet;
	private seq = 0;

	constructor(
		key: Buffer,
		private readonly options: SealOptions = {},
	) {
		this.fernet = new Fernet(key);
	}

	seal(messages: readonly object[]): string {
		return this.sealSerialized(messages.map(message => JSON.stringify(message)));
	}

	/** Seals messages that are already JSON text: the same bytes seal() would make. */
	sealSerialized(messages: readonly string[]): string {
		const plaintext = batchText(this.seq, messages);
		this.seq += 1;
		const {iv, now} = this.options;
		if (!iv && !now) return this.fernet.encrypt(plaintext);
		return this.fernet.encrypt(plaintext, {iv: iv?.(), timeSeconds: now?.()});
	}

	dispose(): void {
		this.fernet.dispose();
	}
}

/** The longest batch wrapper: {"v":1,"seq":<up to 16 digits>,"msgs":[]} plus the line feed. */
export const batchOverheadBytes = 48;

/** The length of the Fernet token for `plaintextBytes` of plaintext (PROTOCOL.md section 3). */
export function tokenLength(plaintextBytes: number): number {
	const ciphertext = 16 * (Math.floor(plaintextBytes / 16) + 1);
	return 4 * Math.ceil((57 + ciphertext) / 3);
}

export class FrameOpener implements FrameOpening {
	private readonly fernet: Fernet;
	private seq = 0;

	constructor(
		key: Buffer,
		private readonly maxBatchMessages: number,
	) {
		this.fernet = new Fernet(key);
	}

	/** Returns the batch's messages, still unchecked: the caller validates each by its direction's parser. */
	open(token: string): unknown[] {
		let plaintext: Buffer;
		try {
			plaintext = this.fernet.decrypt(token);
		} catch {
			throw new ProtocolError('bad_token', 'the frame is not a valid token under this session key');
		}
		const msgs = parseBatch(plaintext.toString('utf8'), this.seq, this.maxBatchMessages);
		this.seq += 1;
		return msgs;
	}

	dispose(): void {
		this.fernet.dispose();
	}
}

/**
 * Batch frames without the Fernet layer: the batch JSON itself is the frame. Only for measuring
 * what transport crypto costs (bench/); no command-line flag turns it on.
 */
export class PlaintextFrames implements FrameSealing, FrameOpening {
	private sealed = 0;
	private opened = 0;

	constructor(private readonly maxBatchMessages: number) {}

	sealSerialized(messages: readonly string[]): string {
		return batchText(this.sealed++, messages);
	}

	open(frame: string): unknown[] {
		const msgs = parseBatch(frame, this.opened, this.maxBatchMessages);
		this.opened += 1;
		return msgs;
	}

	dispose(): void {}
}

function batchText(seq: number, messages: readonly string[]): string {
	return `{"v":${protocolVersion},"seq":${seq},"msgs":[${messages.join(',')}]}`;
}

function parseBatch(text: string, expectedSeq: number, maxBatchMessages: number): unknown[] {
	let batch: unknown;
	try {
		batch = JSON.parse(text);
	} catch {
		throw new ProtocolError('bad_message', 'the batch is not JSON');
	}
	if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) {
		throw new ProtocolError('bad_message', 'the batch must be a JSON object');
	}
	const {v, seq, msgs} = batch as Record<string, unknown>;
	if (v !== protocolVersion) throw new ProtocolError('unsupported_version', `batch version must be ${protocolVersion}`);
	if (seq !== expectedSeq) {
		throw new ProtocolError('bad_sequence', `expected frame ${expectedSeq}, got ${typeof seq === 'number' ? seq : typeof seq}`);
	}
	if (!Array.isArray(msgs) || msgs.length === 0 || msgs.length > maxBatchMessages) {
		throw new ProtocolError('bad_message', `"msgs" must hold 1 to ${maxBatchMessages} messages`);
	}
	return msgs;
}
