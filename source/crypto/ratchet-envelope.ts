import {Buffer} from 'node:buffer';
import {hkdfSync} from 'node:crypto';
import {
	discardRatchet,
	encodeHeader,
	parseHeader,
	ratchetDecrypt,
	ratchetEncrypt,
	type RatchetState,
	type SkippedKey,
	type SkippedLookup,
} from './double-ratchet.js';
import {EnvelopeError, headerProblem, type EnvelopeKind, type Party} from './envelope.js';
import {Fernet} from './fernet.js';
import {lp} from './length-prefix.js';
import type {RawKeyPair} from './raw-keys.js';
import {isBytes} from './x25519.js';

/** Envelopes sealed with a Double Ratchet session (design of issue 14, section 3). Pure: no I/O, no logging. */
export type SealRatchetOptions = {
	state: RatchetState;
	sender: Party;
	recipient: Party;
	/** The session's X3DH base key (EK_A public). */
	baseKey: Buffer;
	/** The initiator passes this until it has received a message in the session. */
	prekey?: {signedId: number; oneTimeId?: number};
	id: string;
	kind: EnvelopeKind;
	payload: Uint8Array | string;
	/** Only the worked example and tests pass these. */
	iv?: Buffer;
	timeSeconds?: number;
};

export type OpenRatchetOptions = {
	state: RatchetState;
	/** The sender as pinned by the recipient, never keys taken from the envelope. */
	sender: Party;
	recipient: Party;
	/** The header's bytes, decoded from the envelope's B64U `ratchet` field. */
	header: Buffer;
	id: string;
	kind: EnvelopeKind;
	body: string;
	/** The stored skipped message key for (ratchet key, n), if any. */
	skipped: SkippedLookup;
	/** The next ratchet pair, if this message makes a DH step; only the worked example and tests pass one. */
	nextDhPair?: RawKeyPair;
};

export type OpenRatchetResult = {
	state: RatchetState;
	payload: Buffer;
	/** The skipped key that opened this message: delete it with the new state. */
	usedSkipped?: {dh: Buffer; n: number};
	/** Keys skipped on the way: store them with the new state. */
	newSkipped: SkippedKey[];
};

const messageLabel = 'im-tui/3 message';

export function sealRatchet(options: SealRatchetOptions): {state: RatchetState; header: Buffer; body: string} {
	const {sender, recipient, id, kind, baseKey, prekey, payload} = options;
	const problem = headerProblem(sender, recipient, id, kind);
	if (problem !== undefined) throw new TypeError(`cannot seal: ${problem}`);
	if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) throw new TypeError('cannot seal: the payload is neither bytes nor a string');
	const step = ratchetEncrypt(options.state);
	try {
		const header = encodeHeader({baseKey, dh: step.dh, previousN: step.previousN, n: step.n, prekey});
		const body = encrypt(step.messageKey, sender, recipient, header, id, kind, payload, options);
		return {state: step.state, header, body};
	} catch (error) {
		discardRatchet(step.state, options.state);
		throw error;
	} finally {
		step.messageKey.fill(0);
	}
}

/** The payload and the new state, or an EnvelopeError; the state passed in is never changed. */
export function openRatchet(options: OpenRatchetOptions): OpenRatchetResult {
	try {
		return open(options);
	} catch (error) {
		if (error instanceof EnvelopeError) throw error;
		throw new EnvelopeError(`cannot open: ${(error as Error)?.message ?? String(error)}`);
	}
}

function open(options: OpenRatchetOptions): OpenRatchetResult {
	const {state, sender, recipient, id, kind, body, skipped} = options;
	const problem = headerProblem(sender, recipient, id, kind);
	if (problem !== undefined) throw new EnvelopeError(`cannot open: ${problem}`);
	if (typeof body !== 'string') throw new EnvelopeError('cannot open: the body is not a string');
	if (typeof skipped !== 'function') throw new EnvelopeError('cannot open: no skipped-key lookup');
	if (!(options.header instanceof Uint8Array)) throw new EnvelopeError('cannot open: the header is not bytes');
	const headerBytes = Buffer.from(options.header);
	const header = parseHeader(headerBytes);
	const step = ratchetDecrypt(state, header, skipped, options.nextDhPair);
	const key = messageFernetKey(step.messageKey, sender, recipient, headerBytes, id, kind);
	step.messageKey.fill(0);
	const fernet = new Fernet(key);
	key.fill(0);
	try {
		const payload = fernet.decrypt(body);
		const result: OpenRatchetResult = {state: step.state, payload, newSkipped: step.newSkipped};
		if (step.usedSkipped !== undefined) result.usedSkipped = step.usedSkipped;
		return result;
	} catch {
		for (const entry of step.newSkipped) entry.key.fill(0);
		discardRatchet(step.state, state);
		throw new EnvelopeError(
			`cannot open message ${id} from ${sender.name}: authentication failed (another key, sender, recipient, header, id or kind, or an altered body)`,
			'authentication',
		);
	} finally {
		fernet.dispose();
	}
}

function encrypt(
	messageKey: Buffer,
	sender: Party,
	recipient: Party,
	header: Buffer,
	id: string,
	kind: EnvelopeKind,
	payload: Uint8Array | string,
	options: {iv?: Buffer; timeSeconds?: number},
): string {
	const key = messageFernetKey(messageKey, sender, recipient, header, id, kind);
	const fernet = new Fernet(key);
	key.fill(0);
	try {
		return fernet.encrypt(payload, {iv: options.iv, timeSeconds: options.timeSeconds});
	} finally {
		fernet.dispose();
	}
}

/** K = HKDF-SHA256(IKM = mk, salt = empty, info = lp("im-tui/3 message", s, r, IK_S, X_S, IK_R, X_R, header, id, kind), L = 32). */
function messageFernetKey(messageKey: Buffer, sender: Party, recipient: Party, header: Buffer, id: string, kind: EnvelopeKind): Buffer {
	if (!isBytes(messageKey, 32)) throw new TypeError('a message key is 32 bytes');
	const info = lp(messageLabel, sender.name, recipient.name, sender.identity, sender.x25519, recipient.identity, recipient.x25519, header, id, kind);
	return Buffer.from(hkdfSync('sha256', messageKey, Buffer.alloc(0), info, 32));
}
