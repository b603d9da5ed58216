import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {RoomKeeper, type PreparedChange, type RoomChange} from '../../source/client/rooms/room-keeper.js';
import {openAccountDatabase, type SqliteDatabase} from '../../source/client/store/account-database.js';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {entryHash, signInvite, type RoomEntry} from '../../source/crypto/room-log.js';
import {tempDir} from './temp-dir.js';

/** One user's room keeper over a real account database of its own, with a clock the test moves. */
export type RoomUser = {name: string; keys: IdentityKeys; directory: string; db: SqliteDatabase; keeper: RoomKeeper; clock: {now: number}};

export function roomUser(name: string, keys: IdentityKeys = generateIdentity(), directory = tempDir(), clock = {now: 1_767_225_600_000}): RoomUser {
	const db = openAccountDatabase(join(directory, 'account.db'));
	return {name, keys, directory, db, keeper: new RoomKeeper(db, name, keys, () => clock.now), clock};
}

/** The same user after closing and opening its database again (a restart). */
export function reopened(user: RoomUser): RoomUser {
	user.db.close();
	return roomUser(user.name, user.keys, user.directory, user.clock);
}

/**
 * A room's stream as the relay keeps it, without a relay: seq numbers, and each change delivered
 * to every user in `users` who is concerned (members before or after it), each with its own key.
 */
export class RoomStream {
	seq = 0;

	constructor(readonly room: string) {}

	/** `author` makes `change`; everyone in `users` applies it (recipients with the secret). */
	change(author: RoomUser, users: readonly RoomUser[], change: RoomChange): {prepared: PreparedChange; seq: number} {
		const prepared = author.keeper.prepare(this.room, change);
		const seq = ++this.seq;
		const history = author.keeper.log(this.room, -1, 100_000);
		for (const user of users) {
			const secret = prepared.recipients.includes(user.name) ? prepared.secret : undefined;
			if (change.action === 'add' && change.record.username === user.name) {
				user.keeper.applyHistory(this.room, history);
			}
			user.keeper.applyChange(prepared.entry, seq, secret);
		}
		return {prepared, seq};
	}

	/** `admin` invites `newcomer`, who accepts; the add is applied by `members` and the newcomer. */
	invite(admin: RoomUser, newcomer: RoomUser, members: readonly RoomUser[]): {prepared: PreparedChange; seq: number} {
		const nonce = randomBytes(16);
		const signature = signInvite({room: this.room, inviter: admin.name, invitee: newcomer.name, nonce}, admin.keys.identity.privateKey);
		if (!newcomer.keeper.saveInvite({room: this.room, inviter: admin.name, record: admin.keeper.record(), nonce, signature, time: admin.clock.now})) {
			throw new Error('the invitation was refused');
		}
		const {accept} = newcomer.keeper.accept(this.room);
		return this.change(admin, [...members, newcomer], {action: 'add', record: newcomer.keeper.record(), nonce, accept});
	}

	/** `from`'s message as the relay delivers it: the next seq. */
	send(from: RoomUser, text: string, id = `m${this.seq + 1}`) {
		const sealed = from.keeper.seal(this.room, id, text, from.clock.now);
		return {room: this.room, seq: ++this.seq, time: from.clock.now, from: from.name, id, ...sealed};
	}
}

/** A room `name` made by `users[0]`, every other user invited and added in turn. */
export function roomOf(name: string, users: readonly RoomUser[]): RoomStream {
	const stream = new RoomStream(name);
	const [creator, ...others] = users;
	stream.change(creator!, [creator!], {action: 'create', topic: 'a topic'});
	const members = [creator!];
	for (const user of others) {
		stream.invite(creator!, user, members);
		members.push(user);
	}
	return stream;
}

export function rowCount(user: RoomUser, table: string, where = '1'): number {
	return user.db.prepare(`SELECT count(*) FROM ${table} WHERE ${where}`).pluck().get() as number;
}

export function headOf(entry: RoomEntry): string {
	return entryHash(entry).toString('base64url');
}
