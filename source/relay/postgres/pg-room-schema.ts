/**
 * The room tables in PostgreSQL: sqlite-rooms.ts's, with its indexes, and three differences.
 * Names are `collate "C"` (bytewise, as SQLite compares), so a member's rooms come in the same
 * order whatever the server's default collation. A room's topic is bytea (UTF-8): a topic is any
 * text an admin signs, and PostgreSQL text cannot hold U+0000. A log entry's author is a column:
 * SQLite reads it from the JSON, but PostgreSQL refuses to read a JSON text holding \u0000 (a
 * topic can), and one such entry would fail every roomItemTotals, so the relay's start.
 */
export const pgRoomSchema = `
create table if not exists rooms (
	room text collate "C" primary key,
	idx bigint not null,
	head text not null,
	creator text collate "C" not null,
	topic bytea not null,
	needs_rekey boolean not null,
	last_seq bigint not null
);
create table if not exists room_log (
	room text collate "C" not null,
	idx bigint not null,
	author text collate "C" not null,
	entry text not null,
	primary key (room, idx)
);
create table if not exists room_members (
	room text collate "C" not null,
	member text collate "C" not null,
	admin boolean not null,
	position bigint not null,
	until bigint,
	identity text not null,
	x25519 text not null,
	binding text not null,
	primary key (room, member)
);
create index if not exists room_members_by_member on room_members (member, room);
create index if not exists room_members_departed on room_members (room, member) where until is not null;
create table if not exists room_items (
	room text collate "C" not null,
	seq bigint not null,
	kind text not null check (kind in ('change', 'message')),
	sender text collate "C" not null,
	id text collate "C" not null,
	time bigint not null,
	json text not null,
	delivered bigint not null default 0,
	"of" bigint not null,
	bytes bigint not null,
	primary key (room, seq)
);
create index if not exists room_items_by_time on room_items (time);
create index if not exists room_items_by_id on room_items (room, sender, id) where kind = 'message';
create table if not exists room_keys (
	room text collate "C" not null,
	seq bigint not null,
	member text collate "C" not null,
	json text not null,
	primary key (room, seq, member)
);
create index if not exists room_keys_by_member on room_keys (room, member, seq);
create table if not exists room_invites (
	room text collate "C" not null,
	invitee text collate "C" not null,
	inviter text collate "C" not null,
	nonce text not null,
	signature text not null,
	accept text,
	time bigint not null,
	primary key (room, invitee)
);
create index if not exists room_invites_by_invitee on room_invites (invitee, room);
create index if not exists room_invites_by_inviter on room_invites (inviter);
create index if not exists room_invites_by_time on room_invites (time);
`;
