import type {EnvelopeKind} from '../../net/messages.js';
import type {SqliteDatabase} from '../store/account-database.js';

/**
 * Texts kept until a receipt confirms them, at most this long and this many per contact (the
 * oldest go first): what is sent again, in a new session, when the other side rebuilt its own.
 */
export const sentTextLifetimeMs = 30 * 24 * 60 * 60 * 1000;
export const maxSentTextsPerContact = 1000;
/** Texts waiting for a first session, all contacts together; sending more is refused. */
export const maxWaitingTexts = 1000;

/** `resend`: it was sealed before, in a session the other side lost. */
export type SentText = {seq: number; name: string; id: string; kind: EnvelopeKind; text: string; sent: number; resend: boolean};

type Row = {seq: number; name: string; id: string; kind: EnvelopeKind; text: string; sent: number; resend: number};

/**
 * The texts this account sent that no receipt confirmed yet (PROTOCOL.md section 14.5), each
 * with the session it was sealed in, or none while it waits for one. A text enters in the
 * transaction that seals it (or before its first session exists) and leaves with its receipt.
 */
export class SentTexts {
	readonly #insert;
	readonly #sealed;
	readonly #waiting;
	readonly #count;
	readonly #confirm;

	constructor(private readonly db: SqliteDatabase) {
		this.#insert = db.prepare('INSERT OR IGNORE INTO sent_texts (name, id, kind, text, sent, session) VALUES (?, ?, ?, ?, ?, ?)');
		this.#sealed = db.prepare('UPDATE sent_texts SET session = ? WHERE name = ? AND id = ?');
		this.#count = db.prepare('SELECT count(*) FROM sent_texts WHERE name = ?').pluck();
		this.#confirm = db.prepare('DELETE FROM sent_texts WHERE name = ? AND id = ?');
		this.#waiting = db.prepare('SELECT seq, name, id, kind, text, sent, resend FROM sent_texts WHERE name = ? AND session IS NULL ORDER BY seq LIMIT ?');
	}

	/** Keeps a text sent to `name`: sealed in `session`, or waiting for one (null). */
	add(name: string, id: string, kind: EnvelopeKind, text: string, sent: number, session: Buffer | null): void {
		this.#insert.run(name, id, kind, text, sent, session);
		const over = this.#count.get(name) as number;
		if (over > maxSentTextsPerContact) {
			this.db
				.prepare('DELETE FROM sent_texts WHERE seq IN (SELECT seq FROM sent_texts WHERE name = ? ORDER BY seq LIMIT ?)')
				.run(name, over - maxSentTextsPerContact);
		}
	}

	sealedIn(name: string, id: string, session: Buffer): void {
		this.#sealed.run(session, name, id);
	}

	/** Up to `limit` texts to `name` waiting for a session, oldest first. */
	waiting(name: string, limit: number): SentText[] {
		return (this.#waiting.all(name, limit) as Row[]).map(row => text(row));
	}

	/** Everyone with texts waiting for a session. */
	waitingNames(): string[] {
		return this.db.prepare('SELECT DISTINCT name FROM sent_texts WHERE session IS NULL').pluck().all() as string[];
	}

	waitingCount(): number {
		return this.db.prepare('SELECT count(*) FROM sent_texts WHERE session IS NULL').pluck().get() as number;
	}

	/** Every text to `name` not confirmed waits for a session again: the one it was sealed in is gone on the other side. */
	unseal(name: string): number {
		return this.db.prepare('UPDATE sent_texts SET session = NULL, resend = 1 WHERE name = ? AND session IS NOT NULL').run(name).changes;
	}

	/** Receipts from `name` for `ids`: those texts are confirmed. */
	confirm(name: string, ids: readonly string[]): void {
		for (const id of ids) this.#confirm.run(name, id);
	}

	/** Drops what waits for `name` (its keys changed); returns the ids of those never sealed. */
	drop(name: string): string[] {
		const unsealed = this.db.prepare('SELECT id FROM sent_texts WHERE name = ? AND session IS NULL ORDER BY seq').pluck().all(name) as string[];
		this.db.prepare('DELETE FROM sent_texts WHERE name = ?').run(name);
		return unsealed;
	}

	/** Drops only the texts to `name` that wait for a session (nobody has that name); returns their ids. */
	dropWaiting(name: string): string[] {
		const waiting = this.db.prepare('SELECT id FROM sent_texts WHERE name = ? AND session IS NULL ORDER BY seq').pluck().all(name) as string[];
		this.db.prepare('DELETE FROM sent_texts WHERE name = ? AND session IS NULL').run(name);
		return waiting;
	}

	prune(now: number): void {
		this.db.prepare('DELETE FROM sent_texts WHERE sent < ?').run(now - sentTextLifetimeMs);
	}
}

function text(row: Row): SentText {
	return {seq: row.seq, name: row.name, id: row.id, kind: row.kind, text: row.text, sent: row.sent, resend: row.resend === 1};
}
