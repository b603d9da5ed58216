import {parseClientMessage, type Envelope} from '../net/messages.js';
import {ProtocolError} from '../net/error-codes.js';
import {isValidUsername} from '../net/usernames.js';
import type {OutboxChanges} from './outbox.js';
import type {SqliteDatabase} from './store/account-database.js';

/**
 * The outbox on disk: the sealed envelopes of one account that wait for the relay, oldest first.
 * It outlives the process because each envelope's counter is already spent: dropping the envelope
 * would make the recipient report a message the relay never had as withheld. It holds only
 * ciphertext sealed for the recipient (the sender cannot open it either), ids and names.
 */
export class OutboxStore {
	readonly #insert;
	readonly #delete;
	readonly #deleteRatchetTo;

	constructor(private readonly db: SqliteDatabase) {
		this.#insert = db.prepare('INSERT OR IGNORE INTO outbox (id, recipient, envelope) VALUES (?, ?, ?)');
		this.#delete = db.prepare('DELETE FROM outbox WHERE id = ? AND recipient = ?');
		this.#deleteRatchetTo = db.prepare("DELETE FROM outbox WHERE recipient = ? AND json_extract(envelope, '$.ratchet') IS NOT NULL");
	}

	load(): Envelope[] {
		const rows = this.db.prepare('SELECT envelope FROM outbox ORDER BY seq').all() as Array<{envelope: string}>;
		return rows.map(row => parseEnvelope(row.envelope));
	}

	/** Keeps one envelope, in the caller's transaction: the one that sealed it (see RatchetEnvelopes). */
	keep(envelope: Envelope): void {
		this.#insert.run(envelope.id, envelope.to, JSON.stringify(envelope));
	}

	/**
	 * Forgets, in the caller's transaction, every ratchet envelope to `to`: sealed in a session `to`
	 * rebuilt, their texts are sealed again (RatchetEnvelopes.open). Outbox.removeTo follows in memory.
	 */
	dropRatchetTo(to: string): void {
		this.#deleteRatchetTo.run(to);
	}

	/** Adds and removes in one transaction. */
	save({added, removed}: OutboxChanges): void {
		this.db.transaction(() => {
			for (const key of removed) {
				const space = key.indexOf(' ');
				this.#delete.run(key.slice(0, space), key.slice(space + 1));
			}
			for (const envelope of added) this.#insert.run(envelope.id, envelope.to, JSON.stringify(envelope));
		})();
	}
}

/** An envelope as stored (or as the outbox.json of releases before 0.3 had it), checked like one from the wire. */
export function parseEnvelope(value: unknown, where = "this account's database"): Envelope {
	const damaged = (why: string) => new Error(`the outbox in ${where} is damaged (${why}); restore it from a backup`);
	try {
		const fields = typeof value === 'string' ? JSON.parse(value) : value;
		const message = parseClientMessage({...(fields as object), type: 'send'});
		if (message.type !== 'send' || !isValidUsername(message.to)) throw damaged('an envelope is not addressed to a username');
		const {type: _type, ...envelope} = message;
		return envelope;
	} catch (error) {
		if (error instanceof ProtocolError) throw damaged(`an envelope is malformed: ${error.message}`);
		if (error instanceof SyntaxError) throw damaged('an envelope is not JSON');
		throw error;
	}
}
