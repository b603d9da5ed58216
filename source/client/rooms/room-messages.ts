import {Buffer} from 'node:buffer';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import {chainStep, maxRoomSkip} from '../../crypto/room-epoch.js';
import {maxRoomBodyLength, openRoomMessage, RoomMessageError, sealRoomMessage, verifyRoomMessage} from '../../crypto/room-message.js';
import type {RoomAccount} from './room-account.js';
import {RoomKeyError} from './room-key-error.js';
import {encodeRoomText, parseRoomText} from './room-payload.js';
import type {RoomSummary} from './room-store.js';
import type {RoomMessageItem, RoomOpened, RoomRejection} from './room-types.js';

const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const maxChainIndex = 0xff_ff_ff_ff;

/** Seals `text` as this account's next message in `room`'s current epoch (design section 3). */
export function sealRoomText(account: RoomAccount, room: string, id: string, text: string, sent: number): {epoch: string; n: number; body: string; signature: string} {
	const {store, username} = account;
	if (!messageIdPattern.test(id)) throw new TypeError('a message id is 1 to 64 of A-Z a-z 0-9 _ -');
	const plaintext = encodeRoomText(text, sent);
	return store.transaction(() => {
		const stored = store.summary(room);
		const epoch = sealingEpoch(stored, room);
		const chain = store.chain(room, epoch, username);
		if (chain === undefined || chain.n > maxChainIndex) throw new RoomKeyError('no_epoch', `#${room} needs a rekey before this account sends again`);
		const {messageKey, chainKey} = chainStep(chain.chainKey);
		store.saveChain(room, epoch, username, chain.n + 1, chainKey);
		const {body, signature} = sealRoomMessage({room, epoch, sender: username, n: chain.n, id, messageKey, plaintext, identityPrivate: account.identity.identity.privateKey});
		store.noteSealed(room, id, chain.n);
		return {epoch: toBase64Url(epoch), n: chain.n, body, signature: toBase64Url(signature)};
	});
}

function sealingEpoch(stored: RoomSummary | undefined, room: string): Buffer {
	if (stored === undefined || stored.status !== 'member') throw new RoomKeyError('no_epoch', `this account is not a member of #${room}`);
	if (stored.state.needsRekey) throw new RoomKeyError('no_epoch', `#${room} needs a rekey: someone left`);
	if (stored.epoch === undefined) throw new RoomKeyError('no_epoch', `this account holds no key of #${room}'s current epoch`);
	return stored.epoch;
}

/**
 * Judges and opens a room_message item (design section 3), in one transaction: the chain it
 * advances and the room's position (moved to the item's seq whatever the verdict) commit together.
 */
export function openRoomItem(account: RoomAccount, item: RoomMessageItem): RoomOpened {
	const {store} = account;
	const reject = (code: RoomRejection, reason: string): RoomOpened => ({type: 'rejected', room: item.room, seq: item.seq, from: item.from, code, reason});
	if (!Number.isSafeInteger(item.seq) || item.seq < 0) return reject('malformed', 'the item has no stream position');
	return store.transaction(() => {
		const stored = store.summary(item.room);
		if (stored === undefined) return reject('not_member', `this account is not in #${item.room}`);
		if (item.seq <= stored.position) return reject('replay', `item ${item.seq} was processed already`);
		const verdict = judge(account, stored, item, reject);
		store.setPosition(item.room, item.seq);
		return verdict;
	});
}

function judge(account: RoomAccount, stored: RoomSummary, item: RoomMessageItem, reject: (code: RoomRejection, reason: string) => RoomOpened): RoomOpened {
	const {store} = account;
	const {room, from, id, n, body} = item;
	if (stored.status !== 'member' && stored.status !== 'stalled') return reject('not_member', `this account is not a member of #${room}`);
	let epoch: Buffer;
	let signature: Buffer;
	try {
		epoch = fromBase64Url(item.epoch, 32);
		signature = fromBase64Url(item.signature, 64);
	} catch {
		return reject('malformed', 'the epoch or the signature is malformed');
	}
	if (!Number.isInteger(n) || n < 0 || n > maxChainIndex) return reject('malformed', 'the chain index is not a u32');
	if (typeof id !== 'string' || !messageIdPattern.test(id)) return reject('malformed', 'the message id is malformed');
	if (typeof body !== 'string' || body.length === 0 || body.length > maxRoomBodyLength) return reject('malformed', 'the body is malformed');
	const sender = typeof from === 'string' ? store.member(room, from) : undefined;
	if (sender === undefined) return reject('not_member', `${from} is not a member of #${room}`);
	if (!verifyRoomMessage({room, epoch, sender: from, n, id, body, signature}, sender.record.identity)) {
		return reject('forged', `the message is not signed by ${from}`);
	}
	if (stored.status === 'stalled') return reject('unreadable', `this account holds no key of #${room}'s current epoch`);
	if (stored.epoch === undefined || !stored.epoch.equals(epoch)) return reject('stale_epoch', 'the message is not in the room’s current epoch');
	const chain = store.chain(room, epoch, from);
	if (chain === undefined) return reject('unreadable', `no chain of ${from} in this epoch`);
	let messageKey: Buffer;
	const now = account.clock();
	if (n < chain.n) {
		const skipped = store.skippedKey(room, epoch, from, n, now);
		if (skipped === undefined) return reject('replay', `message ${n} of ${from} was opened already`);
		store.useSkipped(room, epoch, from, n);
		messageKey = skipped;
	} else {
		if (n - chain.n > maxRoomSkip) return reject('too_far', `message ${n} of ${from} is more than ${maxRoomSkip} ahead`);
		const skipped: Array<{n: number; key: Buffer}> = [];
		let chainKey = chain.chainKey;
		for (let index = chain.n; index < n; index++) {
			const step = chainStep(chainKey);
			skipped.push({n: index, key: step.messageKey});
			chainKey = step.chainKey;
		}
		const step = chainStep(chainKey);
		messageKey = step.messageKey;
		store.saveChain(room, epoch, from, n + 1, step.chainKey);
		store.addSkipped(room, epoch, from, skipped, now);
	}
	let plaintext: Buffer;
	try {
		plaintext = openRoomMessage({room, epoch, sender: from, n, id, body, messageKey});
	} catch (error) {
		if (error instanceof RoomMessageError) return reject('unreadable', 'the message does not open with its key');
		throw error;
	}
	const payload = parseRoomText(plaintext);
	if (typeof payload === 'string') return reject('malformed', payload);
	return {type: 'text', room, seq: item.seq, from, id, text: payload.text, sent: payload.sent, time: item.time};
}
