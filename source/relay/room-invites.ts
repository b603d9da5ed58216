import {fromBase64Url} from '../crypto/base64url.js';
import {verifyAccept, verifyInvite} from '../crypto/room-log.js';
import type {RoomNotice} from './cluster.js';
import type {ErrorMessage, RelayMessage} from '../net/messages.js';
import {recordOf, refusal, sameText, storageText, type RoomContext} from './room-context.js';
import type {StoredInvite} from './room-store.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

/**
 * The invitations to one person one inviter may have waiting: a tenth of maxInvitesPerUser, so
 * that one account with rooms of its own cannot fill a person's invitations and keep everyone
 * else from inviting it.
 */
export function invitesFromOne(maxInvitesPerUser: number): number {
	return Math.max(1, Math.floor(maxInvitesPerUser / 10));
}

/**
 * Invitations (design rooms.md sections 4 and 5): an admin invites, the invitee accepts or
 * declines, and an accepted invitation waits for an admin's `add`. Each message costs a few point
 * reads and at most one signature check; an invitation is at most maxInvitesPerRoom per room and
 * maxInvitesPerUser per invitee, and is forgotten after maxInviteAgeMs.
 */
export class RoomInvites {
	constructor(private readonly context: RoomContext) {}

	async invite(session: Session, username: string, message: {room: string; to: string; nonce: string; signature: string}): Promise<ErrorMessage | undefined> {
		const {cache, store, limits, log, lookups, relay, clock} = this.context;
		const {room: name, to} = message;
		const room = await cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, name);
		const author = room?.state.members.get(username);
		if (room === null || author === undefined) return refusal('not_room_member', `you are not a member of #${name}`, name);
		if (!author.admin) return refusal('not_room_admin', `only an admin of #${name} invites`, name);
		if (room.state.members.has(to)) return refusal('bad_room_change', `${to} is a member of #${name} already`, name);
		// Whether a name is registered is what a lookup tells: a name not known costs a lookup token.
		if (!(await relay.knows(username, to))) {
			const paid = lookups.charge(username, session.address, 1);
			if (!paid.ok) return refusal('lookup_throttled', `too many names you have not met asked about lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, name);
		}
		const invitee = await guardStorage(log, 'user', async () => (await relay.registered(to)) ?? null);
		if (invitee === undefined) return refusal('storage_failed', storageText, name);
		if (invitee === null) return refusal('unknown_recipient', `nobody is registered as ${to}`, name);
		const invite = {room: name, inviter: username, invitee: to, nonce: fromBase64Url(message.nonce, 16), signature: fromBase64Url(message.signature, 64)};
		if (!verifyInvite(invite, author.record.identity)) return refusal('bad_room_change', 'the invitation is not signed by you', name);
		const counts = await guardStorage(log, 'invite', async () => ({held: (await store.invite(name, to)) !== undefined, ...(await store.inviteCounts(name, to, username))}));
		if (counts === undefined) return refusal('storage_failed', storageText, name);
		const fromOne = invitesFromOne(limits.maxInvitesPerUser);
		if (!counts.held && (counts.room >= limits.maxInvitesPerRoom || counts.invitee >= limits.maxInvitesPerUser || counts.inviter >= fromOne)) {
			return refusal(
				'invite_limit',
				`at most ${limits.maxInvitesPerRoom} invitations wait in a room, and ${limits.maxInvitesPerUser} for one person (${fromOne} of them from one inviter)`,
				name,
			);
		}
		const stored: StoredInvite = {room: name, invitee: to, inviter: username, nonce: message.nonce, signature: message.signature, accept: null, time: clock()};
		if ((await guardStorage(log, 'invite', async () => (await store.saveInvite(stored), true))) === undefined) return refusal('storage_failed', storageText, name);
		const here = relay.sessionOf(to);
		if (here === undefined) this.context.tell({kind: 'invited', room: name, user: to}, [to]);
		const invitation = here === undefined ? undefined : await this.invitation(stored, room.state.topic);
		if (invitation !== undefined) here?.sink.send(invitation);
		return undefined;
	}

	async accept(username: string, message: {room: string; nonce: string; accept: string}): Promise<ErrorMessage | undefined> {
		const {cache, store, log, relay} = this.context;
		const name = message.room;
		const found = await this.pending(name, username, message.nonce);
		if ('type' in found) return found;
		// Accepted already (a resend): the admins heard of it then, or read it at their next login. Taken
		// again, each resend would cost a write and a join request to every admin on every relay.
		if (found.accept !== null) return undefined;
		// Logged in: its record is in memory.
		const user = (await relay.registered(username))!;
		const accepted = {room: name, member: username, nonce: fromBase64Url(message.nonce, 16), accept: fromBase64Url(message.accept, 64)};
		if (!verifyAccept(accepted, fromBase64Url(user.identity, 32))) return refusal('bad_room_change', 'the acceptance is not signed by you', name);
		const room = await cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, name);
		if (room === null) return refusal('no_such_room', `there is no room #${name}`, name);
		const count = await guardStorage(log, 'rooms', () => store.memberRoomCount(username));
		if (count === undefined) return refusal('storage_failed', storageText, name);
		if (count >= this.context.limits.maxRoomsPerUser) return refusal('room_limit', `you are in ${count} rooms already, the most one may be in`, name);
		if ((await guardStorage(log, 'invite', async () => (await store.acceptInvite(name, username, message.accept), true))) === undefined) {
			return refusal('storage_failed', storageText, name);
		}
		relay.used(username);
		const request: RelayMessage = {type: 'room_join_request', room: name, record: recordOf(user), nonce: message.nonce, accept: message.accept};
		const elsewhere: string[] = [];
		for (const [member, {admin}] of room.state.members) {
			if (!admin) continue;
			const here = relay.sessionOf(member);
			if (here === undefined) elsewhere.push(member);
			else here.sink.send(request);
		}
		this.context.tell({kind: 'accepted', room: name, user: username}, elsewhere);
		return undefined;
	}

	async decline(username: string, message: {room: string; nonce: string}): Promise<ErrorMessage | undefined> {
		const {store, log, relay} = this.context;
		const name = message.room;
		const found = await this.pending(name, username, message.nonce);
		if ('type' in found) return found;
		if ((await guardStorage(log, 'invite', async () => (await store.deleteInvite(name, username), true))) === undefined) return refusal('storage_failed', storageText, name);
		const here = relay.sessionOf(found.inviter);
		if (here === undefined) this.context.tell({kind: 'declined', room: name, user: username}, [found.inviter]);
		else here.sink.send({type: 'room_declined', room: name, username});
		return undefined;
	}

	/**
	 * Another relay's room notice for users `to` (cluster.ts RoomNotice), checked against the
	 * store: an invitation still waiting goes to its invitee, an acceptance still waiting to the
	 * room's admins (those `to` who are admins here), and a decline, once the invitation is gone,
	 * to its inviter. A notice for nobody logged in here costs nothing.
	 */
	async noticed(notice: RoomNotice, to: readonly string[]): Promise<void> {
		const {store, log, relay, cache} = this.context;
		const sessions = to.flatMap(name => {
			const session = relay.sessionOf(name);
			return session === undefined ? [] : [{name, session}];
		});
		if (sessions.length === 0) return;
		const invite = await guardStorage(log, 'invite', async () => (await store.invite(notice.room, notice.user)) ?? null);
		if (invite === undefined) return;
		if (notice.kind === 'declined') {
			if (invite === null) for (const {session} of sessions) session.sink.send({type: 'room_declined', room: notice.room, username: notice.user});
			return;
		}
		if (invite === null) return;
		if (notice.kind === 'invited') {
			const topic = invite.accept === null ? await this.topic(notice.room) : undefined;
			if (topic === undefined || topic === null) return;
			const invitation = await this.invitation(invite, topic);
			if (invitation !== undefined) for (const {session} of sessions) if (session.name === notice.user) session.sink.send(invitation);
			return;
		}
		// The admins told are members online here: the room is in use here already.
		const room = await cache.get(notice.room);
		if (room === undefined || room === null) return;
		const user = await guardStorage(log, 'user', () => relay.registered(notice.user));
		if (user === undefined || invite.accept === null) return;
		const request: RelayMessage = {type: 'room_join_request', room: notice.room, record: recordOf(user), nonce: invite.nonce, accept: invite.accept};
		for (const {name, session} of sessions) if (room.state.members.get(name)?.admin === true) session.sink.send(request);
	}

	/**
	 * What waits for a user as it logs in: its invitations, and for each room it is an admin of the
	 * accepted invitations waiting for an add; a room's at a time, while the connection has room.
	 * Then `done`.
	 */
	async atLogin(session: Session, username: string, done: () => void): Promise<void> {
		const {store, log, limits, relay} = this.context;
		const current = (): boolean => session.open && relay.sessionOf(username) === session;
		const read = await guardStorage(log, 'invites', async () => ({
			invites: await store.invitesFor(username, limits.maxInvitesPerUser),
			rooms: (await store.memberRooms(username)).filter(room => room.admin && room.until === null),
		}));
		if (!current()) return;
		if (read === undefined) {
			session.sink.close();
			return;
		}
		for (const invite of read.invites) {
			const invitation = await this.invitation(invite, (await this.topic(invite.room)) ?? undefined);
			if (invitation !== undefined) session.sink.send(invitation);
		}
		for (const room of read.rooms) {
			if (!current()) return;
			if (!session.sink.hasRoom()) await new Promise<void>(resolve => session.sink.whenWritable(resolve));
			if (!current()) return;
			const accepted = (await guardStorage(log, 'invites', () => store.acceptedInvites(room.room, limits.maxInvitesPerRoom))) ?? [];
			for (const invite of accepted) {
				const user = await guardStorage(log, 'user', () => relay.registered(invite.invitee));
				if (user !== undefined && invite.accept !== null) {
					session.sink.send({type: 'room_join_request', room: room.room, record: recordOf(user), nonce: invite.nonce, accept: invite.accept});
				}
			}
		}
		if (current()) done();
	}

	/** The invitation to `username` to room `name` with this nonce, or the refusal to answer. */
	private async pending(name: string, username: string, nonce: string): Promise<StoredInvite | ErrorMessage> {
		const invite = await guardStorage(this.context.log, 'invite', async () => (await this.context.store.invite(name, username)) ?? null);
		if (invite === undefined) return refusal('storage_failed', storageText, name);
		if (invite === null || !sameText(invite.nonce, nonce)) return refusal('no_such_room', `you have no invitation to #${name} with that nonce`, name);
		return invite;
	}

	/**
	 * A room's topic, for an invitation to it: from memory if the room is there, else its row alone
	 * (a point read), never loading it (every member) into a relay where nobody may be a member,
	 * which would then read it again at every wake-up of it. Null: no such room; undefined: the
	 * store failed.
	 */
	private async topic(name: string): Promise<string | null | undefined> {
		const held = this.context.cache.peek(name);
		if (held !== undefined) return held.state.topic;
		return guardStorage(this.context.log, 'room', async () => (await this.context.store.room(name))?.topic ?? null);
	}

	/** The room_invitation of a stored invitation; undefined if its inviter's record cannot be read (gone). */
	private async invitation(invite: StoredInvite, topic: string | undefined): Promise<RelayMessage | undefined> {
		const inviter = await guardStorage(this.context.log, 'user', () => this.context.relay.registered(invite.inviter));
		if (inviter === undefined) return undefined;
		const {room, nonce, signature, time} = invite;
		return {type: 'room_invitation', room, from: recordOf(inviter), nonce, signature, time, ...(topic === undefined ? {} : {topic})};
	}
}
