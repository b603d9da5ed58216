import {randomBytes} from 'node:crypto';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import {verifyBinding} from '../../crypto/identity.js';
import {signInvite, verifyAccept, type RoomRecord} from '../../crypto/room-log.js';
import type {ClientMessage, RoomRecordWire} from '../../net/messages.js';
import type {ChangeSender} from './room-change-sender.js';
import type {RoomContext} from './room-context.js';
import {keyChangedWarning, pinRecords} from './room-pins.js';
import {maxChangesPerRoom} from './room-sending-store.js';

/** Invitations, acceptances and declines kept while offline, at most: they go at the next login. */
const maxWaitingRequests = 100;

/** The relay keeps an invitation this long (maxInviteAgeMs); an acceptance of an older one is not taken. */
const invitationLifetimeMs = 30 * 24 * 60 * 60 * 1000;

/**
 * Invitations both ways (design sections 2 and 4). Out: an admin invites someone pinned here
 * (looked up first when not), signing the invitation. In: an invitation is checked (the inviter's
 * record and signature), the inviter pinned, and it waits for accept() or decline(). As an admin:
 * a join request (an invitee accepted) is checked and becomes the `add` change, by itself.
 */
export class InviteFlow {
	/** invitee → rooms they are to be invited to, once their record is pinned here. */
	readonly #wanted = new Map<string, Set<string>>();
	/** What waits for a connection. */
	#waiting: ClientMessage[] = [];

	constructor(
		private readonly ctx: RoomContext,
		private readonly changes: ChangeSender,
	) {}

	invite(room: string, invitee: string): void {
		const {e2e} = this.ctx;
		if (e2e.hasChangedKey(invitee)) throw new Error(`${invitee}'s key changed: compare safety numbers (/verify ${invitee}) and /trust ${invitee} first`);
		if (e2e.knows(invitee)) {
			this.#send(room, invitee);
			return;
		}
		const rooms = this.#wanted.get(invitee) ?? new Set();
		rooms.add(room);
		this.#wanted.set(invitee, rooms);
		this.ctx.host.lookup(invitee);
	}

	/** A lookup answered: the invitations that waited for it go, or fail (nobody has the name). */
	found(users: readonly string[], missing: readonly string[]): void {
		for (const name of missing) {
			for (const room of this.#wanted.get(name) ?? []) {
				this.ctx.host.emit('room-error', {room, code: 'unknown_user', message: `nobody is registered as ${name}: no invitation to #${room} was sent`});
			}
			this.#wanted.delete(name);
		}
		for (const name of users) {
			const rooms = this.#wanted.get(name);
			if (rooms === undefined || !this.ctx.e2e.knows(name)) continue;
			this.#wanted.delete(name);
			for (const room of rooms) this.#send(room, name);
		}
	}

	accept(room: string): void {
		const {nonce, accept} = this.ctx.keeper.accept(room);
		this.#out({type: 'room_accept', room, nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
	}

	decline(room: string): void {
		const invite = this.ctx.keeper.invites().find(waiting => waiting.room === room);
		if (invite === undefined) throw new Error(`no invitation to #${room}`);
		this.ctx.keeper.dropInvite(room);
		this.#out({type: 'room_decline', room, nonce: toBase64Url(invite.nonce)});
		this.ctx.roomsChanged();
	}

	/** The connection is back: what waited goes. */
	attach(): void {
		const waiting = this.#waiting;
		this.#waiting = [];
		for (const message of waiting) this.#out(message);
	}

	invitation(message: {room: string; from: RoomRecordWire; nonce: string; signature: string; time: number; topic?: string}): void {
		const {room, time} = message;
		const record = recordOf(message.from);
		let nonce: Buffer;
		let signature: Buffer;
		try {
			nonce = fromBase64Url(message.nonce, 16);
			signature = fromBase64Url(message.signature, 64);
		} catch {
			return;
		}
		if (record === undefined) return;
		const inviter = record.username;
		if (pinRecords(this.ctx.e2e, [record]).length > 0) {
			this.ctx.warn(room, 'key_changed', `${keyChangedWarning(room, inviter)}; their invitation was refused`);
			return;
		}
		const saved = this.ctx.keeper.saveInvite({room, inviter, record, nonce, signature, time, ...(message.topic === undefined ? {} : {topic: message.topic})});
		if (!saved) return;
		this.ctx.host.emit('room-invite', {room, from: inviter, time});
		this.ctx.roomsChanged();
	}

	/** An invitee accepted (I am an admin of `room`): checked, then added by a change of mine. */
	joinRequest(message: {room: string; record: RoomRecordWire; nonce: string; accept: string}): void {
		const {room} = message;
		const record = recordOf(message.record);
		const view = this.ctx.keeper.room(room);
		if (record === undefined || view?.status !== 'member' || !view.admins.includes(this.ctx.me)) return;
		let nonce: Buffer;
		let accept: Buffer;
		try {
			nonce = fromBase64Url(message.nonce, 16);
			accept = fromBase64Url(message.accept, 64);
		} catch {
			return;
		}
		if (!verifyAccept({room, member: record.username, nonce, accept}, record.identity)) return;
		if (view.members.some(member => member.username === record.username)) return;
		// A relay repeating join requests fills no more than the queue's bound: past it they wait for
		// its next login, their invitation still mine to take (so checked before it is used up).
		if (this.ctx.sending.changes(room).length >= maxChangesPerRoom) return;
		// Only an acceptance of an invitation I sent: a relay cannot have me add someone nobody invited.
		if (!this.ctx.sending.takeInvitation(room, record.username, nonce, this.ctx.clock() - invitationLifetimeMs)) return;
		if (pinRecords(this.ctx.e2e, [record]).length > 0) {
			this.ctx.warn(room, 'key_changed', `${keyChangedWarning(room, record.username)}; they were not added`);
			return;
		}
		this.changes.ask(room, {action: 'add', record, nonce, accept}, 'join');
	}

	#send(room: string, invitee: string): void {
		const nonce = randomBytes(16);
		const signature = signInvite({room, inviter: this.ctx.me, invitee, nonce}, this.ctx.keys.identity.privateKey);
		this.ctx.sending.invited(room, invitee, nonce, this.ctx.clock());
		this.#out({type: 'room_invite', room, to: invitee, nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
	}

	#out(message: ClientMessage): void {
		if (this.ctx.host.transmit(message)) return;
		if (this.#waiting.length >= maxWaitingRequests) throw new Error(`${maxWaitingRequests} room requests wait for the connection already; try again once it is back`);
		this.#waiting.push(message);
	}
}

/** A record from the wire, with a valid binding; undefined otherwise. */
function recordOf(wire: RoomRecordWire): RoomRecord | undefined {
	try {
		const record = {username: wire.username, identity: fromBase64Url(wire.identity, 32), x25519: fromBase64Url(wire.x25519, 32), binding: fromBase64Url(wire.binding, 64)};
		return verifyBinding(record.username, record) ? record : undefined;
	} catch {
		return undefined;
	}
}
