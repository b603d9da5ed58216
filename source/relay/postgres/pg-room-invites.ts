import type {StoredInvite} from '../room-store.js';
import {int} from './pg-numbers.js';
import type {Queryable} from './queryable.js';

type InviteRow = Omit<StoredInvite, 'time'> & {time: string};

const inviteColumns = 'room, invitee, inviter, nonce, signature, accept, time';

function storedInvite(row: InviteRow): StoredInvite {
	return {...row, time: int(row.time)};
}

/** Invitations to rooms (room_invites): the part of PgRoomStore (pg-rooms.ts) that reads and writes them. */
export class PgRoomInvites {
	constructor(protected readonly db: Queryable) {}

	async invite(room: string, invitee: string): Promise<StoredInvite | undefined> {
		const {rows} = await this.db.query<InviteRow>(`select ${inviteColumns} from room_invites where room = $1 and invitee = $2`, [room, invitee]);
		return rows[0] === undefined ? undefined : storedInvite(rows[0]);
	}

	async saveInvite(invite: StoredInvite): Promise<void> {
		await this.db.query(
			`insert into room_invites (${inviteColumns}) values ($1, $2, $3, $4, $5, $6, $7)
			on conflict (room, invitee) do update set inviter = excluded.inviter, nonce = excluded.nonce, signature = excluded.signature,
			accept = excluded.accept, time = excluded.time`,
			[invite.room, invite.invitee, invite.inviter, invite.nonce, invite.signature, invite.accept, invite.time],
		);
	}

	async acceptInvite(room: string, invitee: string, accept: string): Promise<void> {
		await this.db.query('update room_invites set accept = $3 where room = $1 and invitee = $2', [room, invitee, accept]);
	}

	async deleteInvite(room: string, invitee: string): Promise<void> {
		await this.db.query('delete from room_invites where room = $1 and invitee = $2', [room, invitee]);
	}

	/** Three counts of index ranges bounded by maxInvitesPerRoom and maxInvitesPerUser, in one round trip. */
	async inviteCounts(room: string, invitee: string, inviter: string): Promise<{room: number; invitee: number; inviter: number}> {
		const {rows} = await this.db.query<{room: string; invitee: string; inviter: string}>(
			`select (select count(*) from room_invites where room = $1) as room,
			(select count(*) from room_invites where invitee = $2) as invitee,
			(select count(*) from room_invites where invitee = $2 and inviter = $3) as inviter`,
			[room, invitee, inviter],
		);
		const counts = rows[0]!;
		return {room: int(counts.room), invitee: int(counts.invitee), inviter: int(counts.inviter)};
	}

	async invitesFor(invitee: string, limit: number): Promise<StoredInvite[]> {
		const {rows} = await this.db.query<InviteRow>(
			`select ${inviteColumns} from room_invites where invitee = $1 and accept is null order by time, room limit $2`,
			[invitee, limit],
		);
		return rows.map(storedInvite);
	}

	async acceptedInvites(room: string, limit: number): Promise<StoredInvite[]> {
		const {rows} = await this.db.query<InviteRow>(
			`select ${inviteColumns} from room_invites where room = $1 and accept is not null order by time, invitee limit $2`,
			[room, limit],
		);
		return rows.map(storedInvite);
	}

	/** The invitations to and from the user (a deleted user's): the store's deleteUser calls it inside its transaction. */
	async deleteUserInvites(username: string): Promise<void> {
		await this.db.query('delete from room_invites where invitee = $1 or inviter = $1', [username]);
	}
}
