import {Buffer} from 'node:buffer';
import {hkdfSync, sign, type KeyObject} from 'node:crypto';
import {Fernet} from './fernet.js';
import {lp, u32be} from './length-prefix.js';
import {isValidRoomName} from './room-entry.js';
import {verifiedBy} from './room-signature.js';
import {isValidUsername} from './username-rule.js';
import {isBytes, isPrivateKey} from './x25519.js';

/** Room messages (design of issue 15, section 3). Pure: no I/O, no logging. */
export class RoomMessageError extends Error {
	override readonly name = 'RoomMessageError';

	constructor(
		message: string,
		readonly code: 'forged' | 'unreadable',
	) {
		super(message);
	}
}

type MessageFields = {room: string; epoch: Buffer; sender: string; n: number; id: string};

const messageLabel = 'im-tui/4 room message';
const idPattern = /^[A-Za-z0-9_-]{1,64}$/;
const zeroSalt = Buffer.alloc(32);
/** A Fernet token's alphabet: the body is signed as these ASCII bytes. */
const tokenPattern = /^[A-Za-z0-9_=-]+$/;

/**
 * The longest body a room message may have: the wire's maxBodyBytes, room for 8,192 bytes of text
 * even when every character needs a JSON escape.
 */
export const maxRoomBodyLength = 98_304;

/**
 * `lp("im-tui/4 room message", room) || epoch || lp(sender) || u32be(n) || lp(id) || body`: the
 * body (ASCII) is the last part, so it needs no length prefix (lp() takes at most 65,535 bytes).
 */
export function roomSignedBytes(o: MessageFields & {body: string}): Buffer {
	const problem = fieldsProblem(o);
	if (problem !== undefined) throw new TypeError(`not a room message: ${problem}`);
	if (typeof o.body !== 'string' || o.body.length > maxRoomBodyLength || !tokenPattern.test(o.body)) {
		throw new TypeError(`not a room message: the body is not a Fernet token of at most ${maxRoomBodyLength} characters`);
	}
	return Buffer.concat([context(o), Buffer.from(o.body, 'latin1')]);
}

/** The Fernet token of `plaintext` under MK_n, and the sender's signature of it. */
export function sealRoomMessage(
	o: MessageFields & {messageKey: Buffer; plaintext: Buffer; identityPrivate: KeyObject},
): {body: string; signature: Buffer} {
	if (!isPrivateKey(o.identityPrivate, 'ed25519')) throw new TypeError('a room message is signed with an Ed25519 private key');
	if (!(o.plaintext instanceof Uint8Array)) throw new TypeError('the plaintext is bytes');
	const fernet = messageFernet(o);
	let body: string;
	try {
		body = fernet.encrypt(o.plaintext);
	} finally {
		fernet.dispose();
	}
	if (body.length > maxRoomBodyLength) throw new RangeError(`the message is too long: its body is more than ${maxRoomBodyLength} characters`);
	return {body, signature: sign(null, roomSignedBytes({...o, body}), o.identityPrivate)};
}

/** Whether `signature` is the sender's; false, never a throw, for any malformed field or key. */
export function verifyRoomMessage(o: MessageFields & {body: string; signature: Buffer}, senderIdentity: Buffer): boolean {
	let signed: Buffer;
	try {
		signed = roomSignedBytes(o);
	} catch {
		return false;
	}
	return verifiedBy(senderIdentity, signed, o.signature);
}

/** The plaintext, or a RoomMessageError('unreadable'). Verify the signature first. */
export function openRoomMessage(o: MessageFields & {body: string; messageKey: Buffer}): Buffer {
	let fernet: Fernet;
	try {
		fernet = messageFernet(o);
	} catch (error) {
		throw new RoomMessageError(`cannot open the room message: ${(error as Error).message}`, 'unreadable');
	}
	try {
		return fernet.decrypt(o.body);
	} catch {
		throw new RoomMessageError(`cannot open room message ${o.id} from ${o.sender}: another key or an altered body`, 'unreadable');
	} finally {
		fernet.dispose();
	}
}

/** FK = HKDF(MK_n, salt = 32 zero bytes, info = lp(label, room) || epoch || lp(sender) || u32be(n) || lp(id)). */
function messageFernet(o: MessageFields & {messageKey: Buffer}): Fernet {
	const problem = fieldsProblem(o);
	if (problem !== undefined) throw new TypeError(`not a room message: ${problem}`);
	if (!isBytes(o.messageKey, 32)) throw new TypeError('a message key is 32 bytes');
	const key = Buffer.from(hkdfSync('sha256', o.messageKey, zeroSalt, context(o), 32));
	const fernet = new Fernet(key);
	key.fill(0);
	return fernet;
}

function context(o: MessageFields): Buffer {
	return Buffer.concat([lp(messageLabel, o.room), o.epoch, lp(o.sender), u32be(o.n), lp(o.id)]);
}

function fieldsProblem(o: MessageFields): string | undefined {
	if (typeof o !== 'object' || o === null) return 'not an object';
	if (!isValidRoomName(o.room)) return 'the room is not a room name';
	if (!isBytes(o.epoch, 32)) return 'the epoch is not 32 bytes';
	if (typeof o.sender !== 'string' || !isValidUsername(o.sender)) return 'the sender is not a username';
	if (!Number.isInteger(o.n) || o.n < 0 || o.n > 0xff_ff_ff_ff) return 'n is not a u32';
	if (typeof o.id !== 'string' || !idPattern.test(o.id)) return 'the id is not a message id';
	return undefined;
}
