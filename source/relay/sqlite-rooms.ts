import type Database from 'better-sqlite3-multiple-ciphers';
import {
	roomLogOverhead,
	type DeletedItem,
	type DeliveredCount,
	type ItemCount,
	type MemberRoom,
	type RoomItemRead,
	type RoomStore,
	type StoredInvite,
	type StoredMember,
} from './room-store.js';

const schema = `
create table if not exists rooms (
	room text primary key,
	idx integer not null,
	head text not null,
	creator text not null,
	topic text not null,
	needs_rekey integer not null,
	last_seq integer not null
) strict;
create table if not exists room_log (
	room text not null,
	idx integer not null,
	entry text not null,
	primary key (room, idx)
) strict, without rowid;
create table if not exists room_members (
	room text not null,
	member text not null,
	admin integer not null,
	position integer not null,
	until integer,
	identity text not null,
	x25519 text not null,
	binding text not null,
	primary key (room, member)
) strict, without rowid;
create index if not exists room_members_by_member on room_members (member, room);
create index if not exists room_members_departed on room_members (room, member) where until is not null;
create table if not exists room_items (
	room text not null,
	seq integer not null,
	kind text not null,
	sender text not null,
	id text not null,
	time integer not null,
	json text not null,
	delivered integer not null default 0,
	of integer not null,
	bytes integer not null,
	primary key (room, seq)
) strict, without rowid;
create index if not exists room_items_by_time on room_items (time);
create index if not exists room_items_by_id on room_items (room, sender, id) where kind = 'message';
create table if not exists room_keys (
	room text not null,
	seq integer not null,
	member text not null,
	json text not null,
	primary key (room, seq, member)
) strict, without rowid;
create index if not exists room_keys_by_member on room_keys (room, member, seq);
create table if not exists room_invites (
	room text not null,
	invitee text not null,
	inviter text not null,
	nonce text not null,
	signature text not null,
	accept text,
	time integer not null,
	primary key (room, invitee)
) strict, without rowid;
create index if not exists room_invites_by_invitee on room_invites (invitee, room);
create index if not exists room_invites_by_inviter on room_invites (inviter);
create index if not exists room_invites_by_time on room_invites (time);
`;

type RoomRow = {room: string; idx: number; head: string; creator: string; topic: string; needs_rekey: number; last_seq: number};
type MemberRow = Omit<StoredMember, 'admin'> & {admin: number};
type InviteRow = StoredInvite;

/** The room tables (design rooms.md section 5) in the relay's database, and the statements on them. */
export function roomTables(db: Database.Database): RoomStore & {deleteUserInvites(username: string): void} {
	db.exec(schema);
	const selectRoom = db.prepare('select * from rooms where room = ?');
	const upsertRoom = db.prepare(
		`insert into rooms (room, idx, head, creator, topic, needs_rekey, last_seq) values (@room, @index, @head, @creator, @topic, @needsRekey, @lastSeq)
		on conflict (room) do update set idx = excluded.idx, head = excluded.head, creator = excluded.creator, topic = excluded.topic,
		needs_rekey = excluded.needs_rekey, last_seq = excluded.last_seq`,
	);
	const deletes = ['rooms', 'room_log', 'room_members', 'room_keys', 'room_invites'].map(table => db.prepare(`delete from ${table} where room = ?`));
	const deleteAllItems = db.prepare('delete from room_items where room = ? returning sender, bytes');
	const logWeights = db.prepare("select json_extract(entry, '$.author') as sender, length(entry) + ? as bytes from room_log where room = ?");
	const insertLog = db.prepare('insert into room_log (room, idx, entry) values (?, ?, ?)');
	const selectLog = db.prepare('select entry from room_log where room = ? and idx >= ? order by idx limit ?').pluck();
	const selectMembers = db.prepare('select member, admin, position, until, identity, x25519, binding from room_members where room = ?');
	const upsertMember = db.prepare(
		`insert into room_members (room, member, admin, position, until, identity, x25519, binding) values (?, ?, ?, ?, ?, ?, ?, ?)
		on conflict (room, member) do update set admin = excluded.admin, position = excluded.position, until = excluded.until,
		identity = excluded.identity, x25519 = excluded.x25519, binding = excluded.binding`,
	);
	const updateAdmin = db.prepare('update room_members set admin = 1 where room = ? and member = ?');
	const updateUntil = db.prepare('update room_members set until = ? where room = ? and member = ?');
	const deleteMemberRow = db.prepare('delete from room_members where room = ? and member = ?');
	const updatePosition = db.prepare('update room_members set position = ? where room = ? and member = ?');
	const countMemberRooms = db.prepare('select count(*) from room_members where member = ? and until is null').pluck();
	const selectMemberRooms = db.prepare(
		'select m.room as room, m.admin as admin, m.position as position, m.until as until, r.last_seq as lastSeq from room_members m join rooms r on r.room = m.room where m.member = ? order by m.room',
	);
	const selectReader = db.prepare('select 1 from room_members where room = ? and member = ?');
	const selectShared = db.prepare(
		'select 1 from room_members a join room_members b on b.room = a.room and b.member = ? where a.member = ? and a.until is null and b.until is null limit 1',
	);
	const insertItem = db.prepare(
		'insert into room_items (room, seq, kind, sender, id, time, json, of, bytes) values (@room, @seq, @kind, @sender, @id, @time, @json, @of, @bytes)',
	);
	const selectItemById = db.prepare("select seq, time from room_items where room = ? and sender = ? and id = ? and kind = 'message'");
	const insertKey = db.prepare('insert into room_keys (room, seq, member, json) values (?, ?, ?, ?)');
	const deleteMemberKeys = db.prepare('delete from room_keys where room = ? and member = ? and seq <= ?');
	const selectItemCounts = db.prepare('select sender, kind, count(*) as count from room_items where room = ? group by sender, kind');
	const selectItems = db.prepare(
		`select i.seq as seq, i.kind as kind, i.sender as sender, i.json as json, k.json as key from room_items i
		left join room_keys k on k.room = i.room and k.seq = i.seq and k.member = ?
		where i.room = ? and i.seq > ? order by i.seq limit ?`,
	);
	const updateDelivered = db.prepare(
		`update room_items set delivered = delivered + 1 where room = ? and seq > ? and seq <= ? and kind = 'message' and sender != ?
		returning seq, id, sender, delivered, of`,
	);
	const deleteItemsUpTo = db.prepare('delete from room_items where room = ? and seq <= ? returning sender, kind, bytes');
	const deleteKeysUpTo = db.prepare('delete from room_keys where room = ? and seq <= ?');
	const selectTotals = db.prepare(
		`select sender, sum(bytes) as bytes from (select sender, bytes from room_items
		union all select json_extract(entry, '$.author') as sender, length(entry) + ? as bytes from room_log) group by sender`,
	);
	const selectInvite = db.prepare('select * from room_invites where room = ? and invitee = ?');
	const upsertInvite = db.prepare(
		`insert into room_invites (room, invitee, inviter, nonce, signature, accept, time) values (@room, @invitee, @inviter, @nonce, @signature, @accept, @time)
		on conflict (room, invitee) do update set inviter = excluded.inviter, nonce = excluded.nonce, signature = excluded.signature,
		accept = excluded.accept, time = excluded.time`,
	);
	const updateAccept = db.prepare('update room_invites set accept = ? where room = ? and invitee = ?');
	const deleteInviteRow = db.prepare('delete from room_invites where room = ? and invitee = ?');
	const countRoomInvites = db.prepare('select count(*) from room_invites where room = ?').pluck();
	const countInviteeInvites = db.prepare('select count(*) from room_invites where invitee = ?').pluck();
	const countInviterInvites = db.prepare('select count(*) from room_invites where invitee = ? and inviter = ?').pluck();
	const selectInvitesFor = db.prepare('select * from room_invites where invitee = ? and accept is null order by time limit ?');
	const selectAccepted = db.prepare('select * from room_invites where room = ? and accept is not null order by time limit ?');
	const purgeItems = db.prepare('delete from room_items where time < ? returning room, seq');
	const purgeKeys = db.prepare('delete from room_keys where room = ? and seq = ?');
	// A departure whose item is gone (purged) can never be read: nothing is left for that reader.
	const purgeDeparted = db.prepare(
		'delete from room_members where until is not null and not exists (select 1 from room_items i where i.room = room_members.room and i.seq = room_members.until)',
	);
	const purgeInvites = db.prepare('delete from room_invites where time < ?');
	const deleteInvitesOf = db.prepare('delete from room_invites where invitee = ?');
	const deleteInvitesBy = db.prepare('delete from room_invites where inviter = ?');

	const purge = db.transaction((itemsBefore: number, invitesBefore: number) => {
		const items = purgeItems.all(itemsBefore) as Array<{room: string; seq: number}>;
		for (const item of items) purgeKeys.run(item.room, item.seq);
		if (items.length > 0) purgeDeparted.run();
		return {items: items.length, invites: purgeInvites.run(invitesBefore).changes};
	});
	const deleteRead = db.transaction((room: string, seq: number) => {
		deleteKeysUpTo.run(room, seq);
		return deleteItemsUpTo.all(room, seq) as DeletedItem[];
	});

	return {
		room(room) {
			const row = selectRoom.get(room) as RoomRow | undefined;
			if (row === undefined) return undefined;
			return {room: row.room, index: row.idx, head: row.head, creator: row.creator, topic: row.topic, needsRekey: row.needs_rekey === 1, lastSeq: row.last_seq};
		},
		saveRoom(room) {
			upsertRoom.run({...room, needsRekey: room.needsRekey ? 1 : 0});
		},
		deleteRoom(room) {
			const log = logWeights.all(roomLogOverhead, room) as Array<{sender: string; bytes: number}>;
			for (const statement of deletes) statement.run(room);
			return [...(deleteAllItems.all(room) as Array<{sender: string; bytes: number}>), ...log];
		},
		appendLog(room, index, entry) {
			insertLog.run(room, index, entry);
		},
		roomLog: (room, from, limit) => selectLog.all(room, from, limit) as string[],
		roomMembers: room => (selectMembers.all(room) as MemberRow[]).map(row => ({...row, admin: row.admin === 1})),
		saveMember(room, m) {
			upsertMember.run(room, m.member, m.admin ? 1 : 0, m.position, m.until, m.identity, m.x25519, m.binding);
		},
		setAdmin(room, member) {
			updateAdmin.run(room, member);
		},
		departMember(room, member, until) {
			updateUntil.run(until, room, member);
		},
		deleteMember(room, member) {
			deleteMemberRow.run(room, member);
			deleteMemberKeys.run(room, member, Number.MAX_SAFE_INTEGER);
		},
		setPosition(room, member, position) {
			updatePosition.run(position, room, member);
		},
		memberRoomCount: member => countMemberRooms.get(member) as number,
		memberRooms: member => (selectMemberRooms.all(member) as Array<Omit<MemberRoom, 'admin'> & {admin: number}>).map(row => ({...row, admin: row.admin === 1})),
		sharesRoom: (a, b) => selectShared.get(b, a) !== undefined,
		hasReader: (room, member) => selectReader.get(room, member) !== undefined,
		insertRoomItem(item) {
			insertItem.run(item);
		},
		roomMessageById: (room, sender, id) => selectItemById.get(room, sender, id) as {seq: number; time: number} | undefined,
		insertRoomKeys(room, seq, keys) {
			for (const key of keys) insertKey.run(room, seq, key.member, key.json);
		},
		deleteRoomKeys(room, member, seq) {
			deleteMemberKeys.run(room, member, seq);
		},
		roomItemCounts: room => selectItemCounts.all(room) as ItemCount[],
		roomItems: (room, member, after, limit) => selectItems.all(member, room, after, limit) as RoomItemRead[],
		markDelivered: (room, member, after, upTo) => updateDelivered.all(room, after, upTo, member) as DeliveredCount[],
		deleteReadItems: (room, seq) => deleteRead(room, seq),
		roomItemTotals: () => selectTotals.all(roomLogOverhead) as Array<{sender: string; bytes: number}>,
		invite: (room, invitee) => selectInvite.get(room, invitee) as InviteRow | undefined,
		saveInvite(invite) {
			upsertInvite.run(invite);
		},
		acceptInvite(room, invitee, accept) {
			updateAccept.run(accept, room, invitee);
		},
		deleteInvite(room, invitee) {
			deleteInviteRow.run(room, invitee);
		},
		inviteCounts: (room, invitee, inviter) => ({
			room: countRoomInvites.get(room) as number,
			invitee: countInviteeInvites.get(invitee) as number,
			inviter: countInviterInvites.get(invitee, inviter) as number,
		}),
		invitesFor: (invitee, limit) => selectInvitesFor.all(invitee, limit) as InviteRow[],
		acceptedInvites: (room, limit) => selectAccepted.all(room, limit) as InviteRow[],
		purgeRooms: (itemsBefore, invitesBefore) => purge(itemsBefore, invitesBefore),
		deleteUserInvites(username) {
			deleteInvitesOf.run(username);
			deleteInvitesBy.run(username);
		},
	};
}
