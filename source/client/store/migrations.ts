import type Database from 'better-sqlite3-multiple-ciphers';

/**
 * The schema, one numbered step at a time: step N takes a database at user_version N - 1 to N, in
 * the same transaction that sets user_version, so a step is applied whole or not at all. Later
 * features (ratchet sessions, prekey secrets, rooms) add steps; a step is never edited once released.
 */
const migrations: readonly string[] = [
	// 1: the account's keys, its contacts (pins, counters, inbox ledger), outbox, settings and history.
	`
	CREATE TABLE account (
		only INTEGER PRIMARY KEY CHECK (only = 1),
		relay TEXT NOT NULL,
		username TEXT NOT NULL,
		identity_secret BLOB NOT NULL,
		identity_public BLOB NOT NULL,
		x25519_secret BLOB NOT NULL,
		x25519_public BLOB NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
	-- One row per user seen: the pin, any pending record, counters, retired pins, the inbox ledger
	-- (what was accepted and not shown yet, receipts owed), as contact-json.ts writes it.
	CREATE TABLE contacts (name TEXT PRIMARY KEY, contact TEXT NOT NULL) WITHOUT ROWID;
	CREATE TABLE outbox (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL,
		recipient TEXT NOT NULL,
		envelope TEXT NOT NULL,
		UNIQUE (id, recipient)
	);
	CREATE TABLE messages (
		seq INTEGER PRIMARY KEY,
		conversation TEXT NOT NULL,
		direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
		id TEXT NOT NULL,
		author TEXT NOT NULL,
		text TEXT NOT NULL,
		sent INTEGER NOT NULL,
		time INTEGER NOT NULL,
		delivery TEXT,
		UNIQUE (direction, id, conversation)
	);
	CREATE INDEX messages_by_conversation ON messages (conversation, seq);
	CREATE INDEX messages_by_time ON messages (time);
	CREATE VIRTUAL TABLE messages_text USING fts5(text, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
	CREATE TRIGGER messages_text_insert AFTER INSERT ON messages BEGIN
		INSERT INTO messages_text (rowid, text) VALUES (new.seq, new.text);
	END;
	CREATE TRIGGER messages_text_delete AFTER DELETE ON messages BEGIN
		INSERT INTO messages_text (messages_text, rowid, text) VALUES ('delete', old.seq, old.text);
	END;
	-- Bytes of text kept per conversation, so that a cap is checked without a scan.
	CREATE TABLE conversation_sizes (conversation TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID;
	CREATE TRIGGER conversation_size_insert AFTER INSERT ON messages BEGIN
		INSERT INTO conversation_sizes (conversation, bytes) VALUES (new.conversation, length(CAST(new.text AS BLOB)))
		ON CONFLICT (conversation) DO UPDATE SET bytes = bytes + excluded.bytes;
	END;
	CREATE TRIGGER conversation_size_delete AFTER DELETE ON messages BEGIN
		UPDATE conversation_sizes SET bytes = bytes - length(CAST(old.text AS BLOB)) WHERE conversation = old.conversation;
	END;
	`,
	// 2: forward secrecy (PROTOCOL.md section 14): this account's prekey secrets, its ratchet
	// sessions with their skipped message keys, the X3DH base keys it accepted, the texts it sent
	// that no receipt confirmed yet, and when it last rebuilt a session with each contact.
	`
	CREATE TABLE prekeys (
		kind TEXT NOT NULL CHECK (kind IN ('signed', 'one-time')),
		id INTEGER NOT NULL,
		secret BLOB NOT NULL,
		public BLOB NOT NULL,
		signature BLOB,
		created INTEGER NOT NULL,
		retired INTEGER,
		PRIMARY KEY (kind, id)
	) WITHOUT ROWID;
	CREATE TABLE sessions (
		name TEXT NOT NULL,
		base_key BLOB NOT NULL,
		state TEXT NOT NULL,
		active INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL,
		used INTEGER NOT NULL,
		PRIMARY KEY (name, base_key)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX sessions_active ON sessions (name) WHERE active = 1;
	CREATE TABLE skipped_keys (
		name TEXT NOT NULL,
		base_key BLOB NOT NULL,
		dh BLOB NOT NULL,
		n INTEGER NOT NULL,
		key BLOB NOT NULL,
		expires INTEGER NOT NULL,
		PRIMARY KEY (name, base_key, dh, n)
	) WITHOUT ROWID;
	CREATE INDEX skipped_keys_by_expiry ON skipped_keys (expires);
	CREATE TABLE base_keys (
		name TEXT NOT NULL,
		base_key BLOB NOT NULL,
		time INTEGER NOT NULL,
		PRIMARY KEY (name, base_key)
	) WITHOUT ROWID;
	CREATE TABLE sent_texts (
		seq INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		id TEXT NOT NULL,
		kind TEXT NOT NULL,
		text TEXT NOT NULL,
		sent INTEGER NOT NULL,
		session BLOB,
		-- Sealed once in a session the other side lost: sealed again under a new id.
		resend INTEGER NOT NULL DEFAULT 0,
		UNIQUE (name, id)
	);
	CREATE INDEX sent_texts_by_time ON sent_texts (sent);
	-- When this client last rebuilt its session with a contact, and last sent again what a contact's rebuilt session lost.
	CREATE TABLE resets (name TEXT PRIMARY KEY, rebuilt INTEGER, resent INTEGER) WITHOUT ROWID;
	`,
	// 3: rooms (PROTOCOL.md section 15): each room's verified state (its members in a table of
	// their own, so that a message reads one member and moving a room's position rewrites a small
	// row, even at 1,000 members) and log, the sender chains of its current epoch with their skipped
	// message keys, invitations received, and this account's messages to rooms (their relay seq and
	// delivery counts). An epoch secret is stored only while a change of this account that drew it
	// waits to come back (room_my_changes, migration 4); otherwise only the epoch's "next" secret
	// (in the state JSON) and the chains.
	`
	CREATE TABLE rooms (
		room TEXT PRIMARY KEY,
		state TEXT NOT NULL,
		epoch TEXT,
		position INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL CHECK (status IN ('member', 'invited', 'left', 'removed', 'stalled')),
		note TEXT
	) WITHOUT ROWID;
	CREATE TABLE room_members (
		room TEXT NOT NULL,
		member TEXT NOT NULL,
		record TEXT NOT NULL,
		admin INTEGER NOT NULL,
		PRIMARY KEY (room, member)
	) WITHOUT ROWID;
	CREATE TABLE room_log (
		room TEXT NOT NULL,
		idx INTEGER NOT NULL,
		entry TEXT NOT NULL,
		PRIMARY KEY (room, idx)
	) WITHOUT ROWID;
	CREATE TABLE room_chains (
		room TEXT NOT NULL,
		epoch BLOB NOT NULL,
		member TEXT NOT NULL,
		n INTEGER NOT NULL,
		chain_key BLOB NOT NULL,
		PRIMARY KEY (room, epoch, member)
	) WITHOUT ROWID;
	CREATE TABLE room_skipped (
		room TEXT NOT NULL,
		epoch BLOB NOT NULL,
		member TEXT NOT NULL,
		n INTEGER NOT NULL,
		key BLOB NOT NULL,
		expires INTEGER NOT NULL,
		PRIMARY KEY (room, epoch, member, n)
	) WITHOUT ROWID;
	CREATE INDEX room_skipped_by_expiry ON room_skipped (expires);
	CREATE TABLE room_invites (
		room TEXT PRIMARY KEY,
		inviter TEXT NOT NULL,
		record TEXT NOT NULL,
		nonce BLOB NOT NULL,
		signature BLOB NOT NULL,
		time INTEGER NOT NULL,
		topic TEXT
	) WITHOUT ROWID;
	CREATE TABLE room_sent (
		room TEXT NOT NULL,
		id TEXT NOT NULL,
		n INTEGER NOT NULL,
		seq INTEGER,
		delivered INTEGER NOT NULL DEFAULT 0,
		of INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (room, id)
	) WITHOUT ROWID;
	CREATE INDEX room_sent_by_seq ON room_sent (room, seq);
	`,
	// 4: what this account sends to rooms and has not seen through (client/rooms/room-sending-store.ts):
	// texts waiting to go, each sealed once and kept as sealed so a resend after a drop is the same
	// item; the changes it makes, in order, each with the fresh epoch secret it drew, kept until
	// the change comes back in the room's stream (a kill in between must not lose the room's key);
	// the invitations it sent.
	`
	CREATE TABLE room_outbox (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		room TEXT NOT NULL,
		id TEXT NOT NULL,
		text TEXT NOT NULL,
		sent INTEGER NOT NULL,
		sealed TEXT,
		UNIQUE (room, id)
	);
	CREATE TABLE room_my_changes (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		room TEXT NOT NULL,
		change TEXT NOT NULL,
		why TEXT NOT NULL,
		entry TEXT,
		secret BLOB,
		tries INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX room_my_changes_by_room ON room_my_changes (room, seq);
	-- The invitations this account sent: only an acceptance of one of them becomes an add of mine
	-- (a join request the relay made up is not).
	CREATE TABLE room_sent_invites (
		room TEXT NOT NULL,
		invitee TEXT NOT NULL,
		nonce BLOB NOT NULL,
		time INTEGER NOT NULL,
		PRIMARY KEY (room, invitee)
	) WITHOUT ROWID;
	`,
];

export const schemaVersion = migrations.length;

export function migrate(db: Database.Database): void {
	const current = db.pragma('user_version', {simple: true}) as number;
	if (current > schemaVersion) {
		throw new Error(`this account's database was written by a newer im-tui (schema ${current}, this one knows ${schemaVersion}): upgrade im-tui`);
	}
	for (let version = current + 1; version <= schemaVersion; version++) {
		db.transaction(() => {
			db.exec(migrations[version - 1]!);
			db.pragma(`user_version = ${version}`);
		}).immediate();
	}
}
