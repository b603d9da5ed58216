import {Buffer} from 'node:buffer';
import {sign, verify, type KeyObject} from 'node:crypto';
import {isWeakEd25519Key} from './identity.js';
import {lp} from './length-prefix.js';
import {publicKeyFromRaw} from './raw-keys.js';
import {isValidRoomName} from './room-entry.js';
import {isValidUsername} from './username-rule.js';
import {isBytes, isPrivateKey} from './x25519.js';

/** The signatures of a room invitation and of its acceptance (design of issue 15, section 2). */
const inviteLabel = 'im-tui/4 room invite';
const acceptLabel = 'im-tui/4 room accept';

type Invite = {room: string; inviter: string; invitee: string; nonce: Buffer};
type Accept = {room: string; member: string; nonce: Buffer};

/** Ed25519 by the inviting admin over `lp("im-tui/4 room invite", room, inviter, invitee) || nonce`. */
export function signInvite(o: Invite, identityPrivate: KeyObject): Buffer {
	const message = inviteBytes(o);
	if (message === undefined) throw new TypeError('cannot sign the invite: a room name, two usernames and a 16-byte nonce');
	return signWith(message, identityPrivate);
}

export function verifyInvite(o: Invite & {signature: Buffer}, inviterIdentity: Buffer): boolean {
	const message = inviteBytes(o);
	return message !== undefined && verifiedBy(inviterIdentity, message, o.signature);
}

/** Ed25519 by the new member over `lp("im-tui/4 room accept", room, member) || nonce`. */
export function signAccept(o: Accept, identityPrivate: KeyObject): Buffer {
	const message = acceptBytes(o);
	if (message === undefined) throw new TypeError('cannot sign the acceptance: a room name, a username and a 16-byte nonce');
	return signWith(message, identityPrivate);
}

export function verifyAccept(o: Accept & {accept: Buffer}, memberIdentity: Buffer): boolean {
	const message = acceptBytes(o);
	return message !== undefined && verifiedBy(memberIdentity, message, o.accept);
}

/** Whether `signature` is `identity`'s over `message`; false, never a throw, for any malformed or weak key. */
export function verifiedBy(identity: Buffer, message: Buffer, signature: Buffer): boolean {
	try {
		if (!isBytes(identity, 32) || !isBytes(signature, 64) || isWeakEd25519Key(identity)) return false;
		return verify(null, message, publicKeyFromRaw('ed25519', identity), signature);
	} catch {
		return false;
	}
}

function signWith(message: Buffer, identityPrivate: KeyObject): Buffer {
	if (!isPrivateKey(identityPrivate, 'ed25519')) throw new TypeError('expected an Ed25519 private key');
	return sign(null, message, identityPrivate);
}

function inviteBytes(o: Invite): Buffer | undefined {
	if (typeof o !== 'object' || o === null || !isValidRoomName(o.room) || !isName(o.inviter) || !isName(o.invitee)) return undefined;
	if (!isBytes(o.nonce, 16)) return undefined;
	return Buffer.concat([lp(inviteLabel, o.room, o.inviter, o.invitee), o.nonce]);
}

function acceptBytes(o: Accept): Buffer | undefined {
	if (typeof o !== 'object' || o === null || !isValidRoomName(o.room) || !isName(o.member) || !isBytes(o.nonce, 16)) return undefined;
	return Buffer.concat([lp(acceptLabel, o.room, o.member), o.nonce]);
}

function isName(value: unknown): value is string {
	return typeof value === 'string' && isValidUsername(value);
}
