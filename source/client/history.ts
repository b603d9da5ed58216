import type {IncomingMessage} from './client-events.js';
import type {SqliteDatabase} from './store/account-database.js';

/** The conversation key of messages to everyone online. Never a username: '#' is not allowed in one. */
export const everyoneConversation = '#everyone';

/** The conversation key of a room: `#name` (a room is never named `everyone`). */
export function roomConversation(room: string): string {
	return `#${room}`;
}

/** How long messages are kept: `forever`, `off` (none, and what was kept is deleted), or a number of days. */
export type Retention = 'forever' | 'off' | {days: number};

export const defaultRetention: Retention = 'forever';

/** Where one of my messages stands, as the UI shows it. */
export type HistoryDelivery =
	| {state: 'sending'}
	| {state: 'stored'; time: number}
	| {state: 'delivered'}
	| {state: 'failed'; code: string; message: string};

export type HistoryEntry = {
	/** Order across every conversation: the entry's identity in the database. */
	seq: number;
	conversation: string;
	direction: 'in' | 'out';
	id: string;
	author: string;
	/** Raw as received or sent: sanitize before display. */
	text: string;
	/** The author's clock when it was written. */
	sent: number;
	/** When the relay took it (received), or when it was sent (mine). */
	time: number;
	/** Mine only. */
	delivery?: HistoryDelivery;
	/** Mine to everyone only: who was sent a copy, and who confirmed it. */
	receipts?: {recipients: string[]; by: string[]};
	/** Mine to a room only: how many of the other members (`of`, when it was sent) have read it. */
	roomDelivery?: {delivered: number; of: number};
};

type Row = {seq: number; conversation: string; direction: 'in' | 'out'; id: string; author: string; text: string; sent: number; time: number; delivery: string | null};

type StoredDelivery = {delivery: HistoryDelivery; receipts?: {recipients: string[]; by: string[]}; roomDelivery?: {delivered: number; of: number}};

/**
 * Bytes of text kept per conversation at most: past it the oldest messages of that conversation go
 * (a tenth of the cap at a time). Someone who writes to you can fill only their own conversation
 * (and, with messages to everyone, that one): at most this much text, about three times as much
 * on disk with the search index. A conversation of short lines holds about a million messages.
 */
export const maxConversationBytes = 64 * 1024 * 1024;

/** Entries one page of history or search results holds at most. */
export const maxHistoryPage = 500;

/**
 * Every conversation's messages, both directions, with times and delivery state, in the account's
 * database, with a full-text index (FTS5) over their text. Written as the client shows or sends
 * them; a message shown twice (after a kill) is stored once.
 */
export class History {
	readonly #insert;
	readonly #mine;
	readonly #setDelivery;

	readonly #size;
	readonly #trim;
	readonly #page;
	readonly #from;
	readonly #newest;
	readonly #search;

	constructor(
		private readonly db: SqliteDatabase,
		readonly retention: Retention = defaultRetention,
		private readonly maxBytes = maxConversationBytes,
	) {
		this.#size = db.prepare('SELECT bytes FROM conversation_sizes WHERE conversation = ?').pluck();
		// Prepared once: the log reads a page at each scroll and render.
		this.#page = db.prepare('SELECT * FROM messages WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?');
		this.#from = db.prepare('SELECT * FROM messages WHERE conversation = ? AND seq >= ? ORDER BY seq LIMIT ?');
		this.#newest = db.prepare('SELECT conversation, MAX(seq) AS seq FROM messages GROUP BY conversation ORDER BY seq DESC');
		this.#search = db.prepare(
			`SELECT * FROM messages WHERE seq IN (
				SELECT rowid FROM messages_text WHERE messages_text MATCH ? ORDER BY rowid DESC LIMIT ?
			) ORDER BY seq DESC`,
		);
		this.#trim = db.prepare(
			`DELETE FROM messages WHERE conversation = @conversation AND seq <= (
				SELECT seq FROM (
					SELECT seq, SUM(length(CAST(text AS BLOB))) OVER (ORDER BY seq) AS running FROM messages WHERE conversation = @conversation
				) WHERE running >= @excess ORDER BY seq LIMIT 1
			)`,
		);
		this.#insert = db.prepare(
			`INSERT OR IGNORE INTO messages (conversation, direction, id, author, text, sent, time, delivery)
			VALUES (@conversation, @direction, @id, @author, @text, @sent, @time, @delivery)`,
		);
		this.#mine = db.prepare(`SELECT seq, conversation, delivery FROM messages WHERE direction = 'out' AND id = ?`);
		this.#setDelivery = db.prepare('UPDATE messages SET delivery = ? WHERE seq = ?');
		this.prune();
	}

	get keeping(): boolean {
		return this.retention !== 'off';
	}

	received(message: IncomingMessage): void {
		if (!this.keeping) return;
		const conversation = message.kind === 'everyone' ? everyoneConversation : message.from;
		this.#insert.run({conversation, direction: 'in', id: message.id, author: message.from, text: message.text, sent: message.sent, time: message.time, delivery: null});
		this.#cap(conversation);
	}

	/** A room member's text, in the room's conversation (`#name`). */
	roomReceived(message: {room: string; id: string; from: string; text: string; sent: number; time: number}): void {
		if (!this.keeping) return;
		const conversation = roomConversation(message.room);
		this.#insert.run({conversation, direction: 'in', id: message.id, author: message.from, text: message.text, sent: message.sent, time: message.time, delivery: null});
		this.#cap(conversation);
	}

	/** `delivered` of the `of` other members of the room have read my message `id`. */
	roomDelivered(id: string, delivered: number, of: number): void {
		this.#update(id, stored => {
			if (stored.roomDelivery !== undefined && stored.roomDelivery.delivered >= delivered) return stored;
			const state: HistoryDelivery = of > 0 && delivered >= of ? {state: 'delivered'} : stored.delivery;
			return {...stored, delivery: state, roomDelivery: {delivered, of}};
		});
	}

	/** Past the cap, the oldest messages of `conversation` go, down to nine tenths of it. */
	#cap(conversation: string): void {
		const bytes = (this.#size.get(conversation) as number | undefined) ?? 0;
		if (bytes <= this.maxBytes) return;
		this.#trim.run({conversation, excess: bytes - Math.floor(this.maxBytes * 0.9)});
	}

	/** My message `id` to `to` (a username, or everyoneConversation with the `recipients` of its copies). */
	sent(message: {id: string; author: string; to: string; recipients: readonly string[]; text: string; time: number}): void {
		if (!this.keeping) return;
		const stored: StoredDelivery = {delivery: {state: 'sending'}};
		if (message.to === everyoneConversation) stored.receipts = {recipients: [...message.recipients], by: []};
		const {id, author, to, text, time} = message;
		this.#insert.run({conversation: to, direction: 'out', id, author, text, sent: time, time, delivery: JSON.stringify(stored)});
		this.#cap(to);
	}

	/** The relay has my message `id` safe. */
	stored(id: string, time: number): void {
		this.#update(id, stored => (stored.delivery.state === 'sending' ? {...stored, delivery: {state: 'stored', time}} : stored));
	}

	/** `by` confirmed my message `id` end to end. */
	delivered(id: string, by: string): void {
		this.#update(id, (stored, conversation) => {
			if (stored.receipts === undefined) return conversation === by ? {delivery: {state: 'delivered'}} : stored;
			const {recipients, by: confirmed} = stored.receipts;
			if (!recipients.includes(by) || confirmed.includes(by)) return stored;
			const receipts = {recipients, by: [...confirmed, by]};
			return {receipts, delivery: receipts.by.length === recipients.length ? {state: 'delivered'} : stored.delivery};
		});
	}

	/** My direct message `id` will not be delivered. */
	failed(id: string, code: string, message: string): void {
		this.#update(id, stored => (stored.receipts === undefined ? {delivery: {state: 'failed', code, message}} : stored));
	}

	/** Up to `limit` entries of `conversation` before `before` (a seq; the newest when absent), oldest first. */
	page(conversation: string, {before, limit}: {before?: number; limit: number}): HistoryEntry[] {
		const rows = this.#page.all(conversation, before ?? Number.MAX_SAFE_INTEGER, clampLimit(limit)) as Row[];
		return rows.reverse().map(toEntry);
	}

	/** Up to `limit` entries of `conversation` from `seq` on (it included), oldest first: where a search result jumps to. */
	from(conversation: string, seq: number, limit: number): HistoryEntry[] {
		const rows = this.#from.all(conversation, seq, clampLimit(limit)) as Row[];
		return rows.map(toEntry);
	}

	/** The conversations with history, most recent first. */
	conversations(): string[] {
		return this.newest().map(row => row.conversation);
	}

	/** The conversations with history, most recent first, each with the seq of its newest message. */
	newest(): Array<{conversation: string; seq: number}> {
		return this.#newest.all() as Array<{conversation: string; seq: number}>;
	}

	/**
	 * The newest `limit` messages, in every conversation, that hold every word of `words` (each
	 * also as the start of a longer word, case and accents ignored), newest first.
	 */
	search(words: string, limit = 50): HistoryEntry[] {
		const query = ftsQuery(words);
		if (query === undefined) return [];
		const rows = this.#search.all(query, clampLimit(limit)) as Row[];
		return rows.map(toEntry);
	}

	/**
	 * Deletes a conversation's history for real: the rows (secure_delete overwrites the freed pages),
	 * the full-text index's copies (see #scrub), then a checkpoint that empties the WAL, which
	 * held the pages as they were. Returns how many messages went.
	 */
	forget(conversation: string): number {
		const {changes} = this.db.prepare('DELETE FROM messages WHERE conversation = ?').run(conversation);
		this.#scrub();
		return changes;
	}

	/** Deletes what the retention setting no longer keeps; run at open and then now and then. */
	prune(now = Date.now()): number {
		if (this.retention === 'forever') return 0;
		const cutoff = this.retention === 'off' ? Number.MAX_SAFE_INTEGER : now - this.retention.days * 86_400_000;
		const {changes} = this.db.prepare('DELETE FROM messages WHERE time < ?').run(cutoff);
		if (changes > 0) this.#scrub();
		return changes;
	}

	/**
	 * A deleted message's words stay in the full-text index until its segments are merged: FTS5's
	 * 'optimize' merges them all into one, which drops them (and secure_delete zeroes the pages
	 * freed). FTS5's per-row secure-delete does the same a row at a time: forgetting 10,000 of
	 * 110,000 messages took 2.4 s that way, 0.2 s this way.
	 */
	#scrub(): void {
		this.db.exec(`INSERT INTO messages_text (messages_text) VALUES ('optimize')`);
		this.db.pragma('wal_checkpoint(TRUNCATE)');
	}

	#update(id: string, change: (stored: StoredDelivery, conversation: string) => StoredDelivery): void {
		if (!this.keeping) return;
		const row = this.#mine.get(id) as {seq: number; conversation: string; delivery: string | null} | undefined;
		if (row === undefined || row.delivery === null) return;
		const before = JSON.parse(row.delivery) as StoredDelivery;
		const after = change(before, row.conversation);
		if (after !== before) this.#setDelivery.run(JSON.stringify(after), row.seq);
	}
}

function clampLimit(limit: number): number {
	return Math.max(1, Math.min(maxHistoryPage, Math.floor(limit)));
}

/** Each word a quoted FTS5 string (so no word is an operator) matched as a prefix; all of them must match. */
export function ftsQuery(words: string): string | undefined {
	const terms = words
		.split(/\s+/u)
		.map(word => word.replace(/[^\p{L}\p{N}]+/gu, ' ').trim())
		.filter(word => word !== '')
		.slice(0, 16);
	if (terms.length === 0) return undefined;
	return terms.map(term => `"${term.replaceAll('"', '""')}"*`).join(' ');
}

function toEntry(row: Row): HistoryEntry {
	const entry: HistoryEntry = {seq: row.seq, conversation: row.conversation, direction: row.direction, id: row.id, author: row.author, text: row.text, sent: row.sent, time: row.time};
	if (row.delivery !== null) {
		const stored = JSON.parse(row.delivery) as StoredDelivery;
		entry.delivery = stored.delivery;
		if (stored.receipts !== undefined) entry.receipts = stored.receipts;
		if (stored.roomDelivery !== undefined) entry.roomDelivery = stored.roomDelivery;
	}
	return entry;
}
