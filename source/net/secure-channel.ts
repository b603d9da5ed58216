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

export class FrameSealer {
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
		const plaintext = `{"v":${protocolVersion},"seq":${this.seq},"msgs":[${messages.join(',')}]}`;
		this.seq += 1;
		const {iv, now} = this.options;
		if (!iv && !now) return this.fernet.encrypt(plaintext);
		return this.fernet.encrypt(plaintext, {iv: iv?.(), timeSeconds: now?.()});
	}
}

/** The longest batch wrapper: {"v":1,"seq":<up to 16 digits>,"msgs":[]} plus the line feed. */
export const batchOverheadBytes = 48;

/** The length of the Fernet token for `plaintextBytes` of plaintext (PROTOCOL.md section 3). */
export function tokenLength(plaintextBytes: number): number {
	const ciphertext = 16 * (Math.floor(plaintextBytes / 16) + 1);
	return 4 * Math.ceil((57 + ciphertext) / 3);
}

export class FrameOpener {
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
		let batch: unknown;
		try {
			batch = JSON.parse(plaintext.toString('utf8'));
		} catch {
			throw new ProtocolError('bad_message', 'the batch is not JSON');
		}
		if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) {
			throw new ProtocolError('bad_message', 'the batch must be a JSON object');
		}
		const {v, seq, msgs} = batch as Record<string, unknown>;
		if (v !== protocolVersion) throw new ProtocolError('unsupported_version', `batch version must be ${protocolVersion}`);
		if (seq !== this.seq) {
			throw new ProtocolError('bad_sequence', `expected frame ${this.seq}, got ${typeof seq === 'number' ? seq : typeof seq}`);
		}
		if (!Array.isArray(msgs) || msgs.length === 0 || msgs.length > this.maxBatchMessages) {
			throw new ProtocolError('bad_message', `"msgs" must hold 1 to ${this.maxBatchMessages} messages`);
		}
		this.seq += 1;
		return msgs;
	}
}
