import {Buffer} from 'node:buffer';
import {createHmac, hkdfSync, randomBytes} from 'node:crypto';
import {lp, u64be} from './length-prefix.js';
import {isValidRoomName} from './room-entry.js';
import {isValidUsername} from './username-rule.js';
import {isBytes} from './x25519.js';

/**
 * Epoch secrets and sender chains of a room (design of issue 15, section 1). The caller deletes
 * an epoch secret once epochKeys has run, and a chain or message key once it is used.
 */
const epochLabel = 'im-tui/4 room epoch';
const nextLabel = 'im-tui/4 room next';
const sendersLabel = 'im-tui/4 room senders';
const messageKeyByte = Buffer.from([0x01]);
const chainKeyByte = Buffer.from([0x02]);

/** Skipped message keys kept for one message: at most this many ahead of the next expected `n`. */
export const maxRoomSkip = 1000;

/** A derived epoch's secret: `E' = HKDF(A, salt = H', info = lp("im-tui/4 room epoch", room, u64be(index)))`. */
export function deriveEpochSecret(next: Buffer, head: Buffer, room: string, index: number): Buffer {
	requireKey(next, 'the next secret');
	requireKey(head, 'the epoch id');
	requireRoom(room);
	return hkdf(next, head, lp(epochLabel, room, u64be(index)));
}

/** A fresh epoch's secret. */
export function newEpochSecret(): Buffer {
	return randomBytes(32);
}

/**
 * From the epoch secret E of the epoch whose id is `head`: the next secret A, and every member's
 * first sender chain key CK_0, by username: `S = HKDF(E, salt = H, info = lp("im-tui/4 room
 * senders", room))`, `CK_0(m) = HMAC(S, lp(m.username) || m.identity)`. One HMAC a member, not
 * one HKDF (a tenth of the cost): a change in a room of 1,000 derives 1,000 chains.
 */
export function epochKeys(
	secret: Buffer,
	head: Buffer,
	room: string,
	members: ReadonlyArray<{username: string; identity: Buffer}>,
): {next: Buffer; chains: Map<string, Buffer>} {
	requireKey(secret, 'an epoch secret');
	requireKey(head, 'the epoch id');
	requireRoom(room);
	const next = hkdf(secret, head, lp(nextLabel, room));
	const senders = hkdf(secret, head, lp(sendersLabel, room));
	const chains = new Map<string, Buffer>();
	try {
		for (const {username, identity} of members) {
			if (typeof username !== 'string' || !isValidUsername(username)) throw new TypeError('a member is a username');
			requireKey(identity, "a member's identity");
			chains.set(username, createHmac('sha256', senders).update(lp(username)).update(identity).digest());
		}
	} finally {
		senders.fill(0);
	}
	return {next, chains};
}

/** `MK_n = HMAC(CK_n, 0x01)`, `CK_{n+1} = HMAC(CK_n, 0x02)`. */
export function chainStep(chainKey: Buffer): {messageKey: Buffer; chainKey: Buffer} {
	requireKey(chainKey, 'a chain key');
	return {
		messageKey: createHmac('sha256', chainKey).update(messageKeyByte).digest(),
		chainKey: createHmac('sha256', chainKey).update(chainKeyByte).digest(),
	};
}

function hkdf(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
	return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function requireKey(value: unknown, name: string): void {
	if (!isBytes(value, 32)) throw new TypeError(`${name} is 32 bytes`);
}

function requireRoom(room: string): void {
	if (!isValidRoomName(room)) throw new TypeError('not a room name');
}
