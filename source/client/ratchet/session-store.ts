import {parseRatchet, serialiseRatchet, type RatchetState} from '../../crypto/double-ratchet.js';
import {newCounterState, type CounterState} from '../receive-counter.js';
import type {SqliteDatabase} from '../store/account-database.js';

/** Sessions kept per contact: the active one and the latest replaced ones, which still open late envelopes. */
export const maxSessionsPerContact = 5;
/** Skipped message keys kept per session (the oldest go first) and how long each is kept. */
export const maxSkippedPerSession = 2000;
export const skippedKeyLifetimeMs = 30 * 24 * 60 * 60 * 1000;
/**
 * Accepted base keys are remembered longer than any prekey that could open them again is kept
 * (a signed prekey's 7 days of use plus 30 days kept), so a replayed first message opens nothing.
 */
export const baseKeyMemoryMs = 40 * 24 * 60 * 60 * 1000;
/**
 * Accepted base keys remembered per contact (the newest). Only a contact that starts more sessions
 * than this within baseKeyMemoryMs loses the memory of its own oldest ones; without a bound one
 * account sending first messages at the relay's send rate grows this table by gigabytes.
 */
export const maxBaseKeysPerContact = 1000;
/** Skipped keys kept per account, all contacts together (the keys closest to expiry go first). */
export const maxSkippedPerAccount = 50_000;

/** One Double Ratchet session with a contact (PROTOCOL.md section 14.3), as this client keeps it. */
export type Session = {
	name: string;
	/** The X3DH base key of its initiator: the session's name on the wire. */
	baseKey: Buffer;
	ratchet: RatchetState;
	/** This client started it (sent the X3DH first message). */
	initiator: boolean;
	/** The prekeys its first message used: the initiator sends them until confirmed. */
	prekey?: {signedId: number; oneTimeId?: number};
	/** The payload counter of the next envelope sealed in it. */
	send: number;
	/** Replays and gaps of the payload counters received in it (receive-counter.ts). */
	receive: CounterState;
	created: number;
};

type Row = {name: string; base_key: Buffer; state: string; created: number};

/**
 * The sessions, skipped message keys, accepted base keys and reset times of one account. Callers
 * run each change inside the transaction that also commits what the change advanced (a counter,
 * an inbox entry, a sent text), so none of it is ever written half.
 */
export class SessionStore {
	readonly #byKey;
	readonly #active;
	readonly #upsert;
	readonly #skipped;
	readonly #deleteSkipped;
	readonly #insertSkipped;

	constructor(private readonly db: SqliteDatabase) {
		this.#byKey = db.prepare('SELECT name, base_key, state, created FROM sessions WHERE name = ? AND base_key = ?');
		this.#active = db.prepare('SELECT name, base_key, state, created FROM sessions WHERE name = ? AND active = 1');
		this.#upsert = db.prepare(
			'INSERT INTO sessions (name, base_key, state, active, created, used) VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (name, base_key) DO UPDATE SET state = excluded.state, used = excluded.used',
		);
		this.#skipped = db.prepare('SELECT key FROM skipped_keys WHERE name = ? AND base_key = ? AND dh = ? AND n = ? AND expires > ?').pluck();
		this.#deleteSkipped = db.prepare('DELETE FROM skipped_keys WHERE name = ? AND base_key = ? AND dh = ? AND n = ?');
		this.#insertSkipped = db.prepare('INSERT OR REPLACE INTO skipped_keys (name, base_key, dh, n, key, expires) VALUES (?, ?, ?, ?, ?, ?)');
	}

	active(name: string): Session | undefined {
		const row = this.#active.get(name) as Row | undefined;
		return row === undefined ? undefined : readRow(row);
	}

	get(name: string, baseKey: Buffer): Session | undefined {
		const row = this.#byKey.get(name, baseKey) as Row | undefined;
		return row === undefined ? undefined : readRow(row);
	}

	save(session: Session, now: number): void {
		this.#upsert.run(session.name, session.baseKey, JSON.stringify(writeState(session)), session.created, now);
	}

	/** Makes `baseKey` the session `name` sends in; keeps the newest maxSessionsPerContact. */
	activate(name: string, baseKey: Buffer): void {
		this.db.prepare('UPDATE sessions SET active = 0 WHERE name = ? AND active = 1').run(name);
		this.db.prepare('UPDATE sessions SET active = 1 WHERE name = ? AND base_key = ?').run(name, baseKey);
		this.trim(name);
	}

	/**
	 * Keeps the active session with `name` and the maxSessionsPerContact - 1 most recently used
	 * others; the rest go, with their skipped keys. Also after a session was stored without being
	 * activated (a simultaneous start it lost), or a contact could make this side keep any number.
	 */
	trim(name: string): void {
		const old = this.db
			.prepare('SELECT base_key FROM sessions WHERE name = ? AND active = 0 ORDER BY used DESC LIMIT -1 OFFSET ?')
			.pluck()
			.all(name, maxSessionsPerContact - 1) as Buffer[];
		for (const key of old) this.#forget(name, key);
	}

	/** The contacts this account has a session with. */
	names(): string[] {
		return this.db.prepare('SELECT DISTINCT name FROM sessions ORDER BY name').pluck().all() as string[];
	}

	/** Forgets every session with `name` (its keys changed: a new identity starts over). */
	forgetContact(name: string): void {
		this.db.prepare('DELETE FROM sessions WHERE name = ?').run(name);
		this.db.prepare('DELETE FROM skipped_keys WHERE name = ?').run(name);
	}

	skippedKey(name: string, baseKey: Buffer, dh: Buffer, n: number, now: number): Buffer | undefined {
		return this.#skipped.get(name, baseKey, dh, n, now) as Buffer | undefined;
	}

	useSkipped(name: string, baseKey: Buffer, dh: Buffer, n: number): void {
		this.#deleteSkipped.run(name, baseKey, dh, n);
	}

	/** Keeps skipped keys for skippedKeyLifetimeMs, at most maxSkippedPerSession per session (the oldest go). */
	addSkipped(name: string, baseKey: Buffer, keys: ReadonlyArray<{dh: Buffer; n: number; key: Buffer}>, now: number): void {
		if (keys.length === 0) return;
		const expires = now + skippedKeyLifetimeMs;
		for (const {dh, n, key} of keys) this.#insertSkipped.run(name, baseKey, dh, n, key, expires);
		this.db
			.prepare(
				'DELETE FROM skipped_keys WHERE name = ? AND base_key = ? AND (dh, n) IN (SELECT dh, n FROM skipped_keys WHERE name = ? AND base_key = ? ORDER BY expires DESC, n DESC LIMIT -1 OFFSET ?)',
			)
			.run(name, baseKey, name, baseKey, maxSkippedPerSession);
		// Many contacts each filling their sessions must not fill the disk: the keys closest to expiry go first.
		const total = this.db.prepare('SELECT count(*) FROM skipped_keys').pluck().get() as number;
		if (total > maxSkippedPerAccount) {
			this.db
				.prepare('DELETE FROM skipped_keys WHERE (name, base_key, dh, n) IN (SELECT name, base_key, dh, n FROM skipped_keys ORDER BY expires LIMIT ?)')
				.run(total - maxSkippedPerAccount);
		}
	}

	hasSeenBaseKey(name: string, baseKey: Buffer): boolean {
		return this.db.prepare('SELECT 1 FROM base_keys WHERE name = ? AND base_key = ?').get(name, baseKey) !== undefined;
	}

	rememberBaseKey(name: string, baseKey: Buffer, now: number): void {
		this.db.prepare('INSERT OR IGNORE INTO base_keys (name, base_key, time) VALUES (?, ?, ?)').run(name, baseKey, now);
		this.db
			.prepare('DELETE FROM base_keys WHERE name = ? AND base_key IN (SELECT base_key FROM base_keys WHERE name = ? ORDER BY base_key = ? DESC, time DESC LIMIT -1 OFFSET ?)')
			.run(name, name, baseKey, maxBaseKeysPerContact);
	}

	/** When this client last rebuilt its session with `name` ('rebuilt'), or last sent again what `name` lost ('resent'). */
	lastReset(name: string, what: 'rebuilt' | 'resent'): number | undefined {
		return (this.db.prepare(`SELECT ${what} FROM resets WHERE name = ?`).pluck().get(name) as number | null | undefined) ?? undefined;
	}

	recordReset(name: string, what: 'rebuilt' | 'resent', now: number): void {
		this.db.prepare(`INSERT INTO resets (name, ${what}) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET ${what} = excluded.${what}`).run(name, now);
	}

	/** Forgets expired skipped keys and base keys too old to matter. */
	prune(now: number): void {
		this.db.prepare('DELETE FROM skipped_keys WHERE expires <= ?').run(now);
		this.db.prepare('DELETE FROM base_keys WHERE time < ?').run(now - baseKeyMemoryMs);
	}

	#forget(name: string, baseKey: Buffer): void {
		this.db.prepare('DELETE FROM sessions WHERE name = ? AND base_key = ?').run(name, baseKey);
		this.db.prepare('DELETE FROM skipped_keys WHERE name = ? AND base_key = ?').run(name, baseKey);
	}
}

/** Whether a message was received in `session`: until then its initiator sends the prekey part. */
export function confirmed(session: Session): boolean {
	return session.ratchet.recvChain !== null;
}

/** A fresh session's counters. */
export function newSessionCounters(): Pick<Session, 'send' | 'receive'> {
	return {send: 0, receive: newCounterState()};
}

function writeState(session: Session): object {
	return {
		ratchet: serialiseRatchet(session.ratchet),
		initiator: session.initiator,
		...(session.prekey === undefined ? {} : {prekey: session.prekey}),
		send: session.send,
		receive: session.receive,
	};
}

function readRow(row: Row): Session {
	let fields: Record<string, unknown>;
	try {
		fields = JSON.parse(row.state) as Record<string, unknown>;
		const receive = fields.receive as CounterState;
		const prekey = fields.prekey as Session['prekey'];
		const valid =
			typeof fields.initiator === 'boolean' &&
			Number.isSafeInteger(fields.send) &&
			typeof receive === 'object' &&
			receive !== null &&
			// receive-counter.ts: `next` reaches 2^53 after a counter of Number.MAX_SAFE_INTEGER.
			Number.isInteger(receive.next) &&
			receive.next >= 0 &&
			receive.next <= 2 ** 53 &&
			Array.isArray(receive.missing) &&
			receive.missing.every(counter => Number.isSafeInteger(counter)) &&
			(prekey === undefined || (Number.isSafeInteger(prekey.signedId) && (prekey.oneTimeId === undefined || Number.isSafeInteger(prekey.oneTimeId))));
		if (!valid) throw new TypeError('fields');
		const session: Session = {
			name: row.name,
			baseKey: row.base_key,
			ratchet: parseRatchet(fields.ratchet),
			initiator: fields.initiator as boolean,
			send: fields.send as number,
			receive: {next: receive.next, missing: [...receive.missing]},
			created: row.created,
		};
		if (prekey !== undefined) session.prekey = prekey;
		return session;
	} catch {
		throw new Error(`the session with ${row.name} in this account's database is damaged: restore the database from a backup`);
	}
}
