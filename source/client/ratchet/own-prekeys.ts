import type {IdentityKeys} from '../../crypto/identity.js';
import {randomInt} from 'node:crypto';
import {signPrekey} from '../../crypto/prekeys.js';
import {generateRawKeyPair, keyPairFromPrivate, privateRaw, type RawKeyPair} from '../../crypto/raw-keys.js';
import type {SqliteDatabase} from '../store/account-database.js';

/** A new signed prekey replaces the published one this often (PROTOCOL.md section 14.1). */
export const signedPrekeyLifetimeMs = 7 * 24 * 60 * 60 * 1000;
/**
 * A replaced signed prekey's secret is kept this long: a first message sealed with it just before
 * it was replaced may wait that long in the relay's queue (maxQueueAgeMs, 30 days).
 */
export const retiredSignedPrekeyKeepMs = 30 * 24 * 60 * 60 * 1000;
/** The pool this client keeps on the relay: topped up to oneTimeTarget once it falls under oneTimeLowWater. */
export const oneTimeTarget = 100;
export const oneTimeLowWater = 25;
/**
 * A one-time secret is kept until the first message that used it opens, or, unless it is one of the
 * newest oneTimeTarget (which the relay may still hold and hand out), for this long after it
 * was made (a signed prekey's week of use plus the relay queue's 30 days), and at most
 * maxOneTimeSecrets of them (the relay hands out at most 50 an hour: four weeks of a drained pool,
 * about 4 MB), the oldest going first.
 */
export const oneTimeSecretKeepMs = 37 * 24 * 60 * 60 * 1000;
export const maxOneTimeSecrets = 40_000;

export type PublishedSigned = {id: number; key: Buffer; signature: Buffer; created: number};

/**
 * This account's prekeys (X3DH, PROTOCOL.md section 14.1): the signed prekey it publishes, the
 * replaced ones still kept, and the one-time prekeys it handed the relay. Secrets never leave
 * this table but into a session being opened; a used one-time secret is deleted with the
 * session's first commit. Ids only grow (a setting), so an id never names two keys.
 */
export class OwnPrekeys {
	readonly #signed;
	readonly #secret;
	readonly #insert;
	readonly #nextId;

	constructor(
		private readonly db: SqliteDatabase,
		private readonly keys: IdentityKeys,
		private readonly username: string,
	) {
		this.#signed = db.prepare("SELECT id, public AS key, signature, created FROM prekeys WHERE kind = 'signed' AND retired IS NULL ORDER BY id DESC LIMIT 1");
		this.#secret = db.prepare('SELECT secret FROM prekeys WHERE kind = ? AND id = ?').pluck();
		this.#insert = db.prepare('INSERT INTO prekeys (kind, id, secret, public, signature, created) VALUES (?, ?, ?, ?, ?, ?)');
		this.#nextId = db.prepare("SELECT value FROM settings WHERE name = 'prekey-next-id'").pluck();
	}

	/** The signed prekey to publish now, if there is one. */
	signed(): PublishedSigned | undefined {
		return this.#signed.get() as PublishedSigned | undefined;
	}

	/** How many one-time secrets are kept. */
	oneTimeCount(): number {
		return this.db.prepare("SELECT count(*) FROM prekeys WHERE kind = 'one-time'").pluck().get() as number;
	}

	/**
	 * Makes a new signed prekey and retires the current one; forgets retired ones older than
	 * retiredSignedPrekeyKeepMs. One transaction.
	 */
	rotateSigned(now: number): PublishedSigned {
		return this.db.transaction(() => {
			this.db.prepare("UPDATE prekeys SET retired = ? WHERE kind = 'signed' AND retired IS NULL").run(now);
			this.db.prepare("DELETE FROM prekeys WHERE kind = 'signed' AND retired < ?").run(now - retiredSignedPrekeyKeepMs);
			const id = this.#takeIds(1);
			const pair = generateRawKeyPair('x25519');
			const signature = signPrekey(this.keys.identity, this.username, id, pair.publicRaw);
			this.#insert.run('signed', id, privateRaw(pair.privateKey), pair.publicRaw, signature, now);
			return {id, key: pair.publicRaw, signature, created: now};
		})();
	}

	/** Makes `count` one-time prekeys and returns their public halves; keeps at most maxOneTimeSecrets. */
	addOneTime(count: number, now: number): Array<{id: number; key: Buffer}> {
		return this.db.transaction(() => {
			const first = this.#takeIds(count);
			const made: Array<{id: number; key: Buffer}> = [];
			for (let index = 0; index < count; index++) {
				const pair = generateRawKeyPair('x25519');
				this.#insert.run('one-time', first + index, privateRaw(pair.privateKey), pair.publicRaw, null, now);
				made.push({id: first + index, key: pair.publicRaw});
			}
			// Not the newest oneTimeTarget: the relay's pool is always among them (ids only grow, it keeps at most
			// 100 and hands out the lowest first), and a key it still holds may be handed out tomorrow, however old.
			this.db
				.prepare("DELETE FROM prekeys WHERE kind = 'one-time' AND created < ? AND id NOT IN (SELECT id FROM prekeys WHERE kind = 'one-time' ORDER BY created DESC, id DESC LIMIT ?)")
				.run(now - oneTimeSecretKeepMs, oneTimeTarget);
			this.db
				.prepare("DELETE FROM prekeys WHERE kind = 'one-time' AND id IN (SELECT id FROM prekeys WHERE kind = 'one-time' ORDER BY created DESC, id DESC LIMIT -1 OFFSET ?)")
				.run(maxOneTimeSecrets);
			return made;
		})();
	}

	/** The secret of signed prekey `id`, current or retired and still kept. */
	signedPair(id: number): RawKeyPair | undefined {
		return this.#load('signed', id);
	}

	oneTimePair(id: number): RawKeyPair | undefined {
		return this.#load('one-time', id);
	}

	/** Forgets a used one-time secret: call inside the transaction that stores the session it opened. */
	deleteOneTime(id: number): void {
		this.db.prepare("DELETE FROM prekeys WHERE kind = 'one-time' AND id = ?").run(id);
	}

	#load(kind: 'signed' | 'one-time', id: number): RawKeyPair | undefined {
		const secret = this.#secret.get(kind, id) as Buffer | undefined;
		if (secret === undefined) return undefined;
		try {
			return keyPairFromPrivate('x25519', secret);
		} finally {
			secret.fill(0);
		}
	}

	/**
	 * `count` consecutive fresh ids (to 2^32 - 1; past that the account would need a new identity).
	 * The first is random, so a relay that still holds an earlier identity's prekeys under this name
	 * never holds a signed prekey with the id of ours, which the client would take for its own.
	 */
	#takeIds(count: number): number {
		const first = Number(this.#nextId.get() ?? randomInt(2 ** 31));
		if (first + count > 0xff_ff_ff_ff) throw new RangeError('this account has used up its prekey ids');
		this.db.prepare("INSERT OR REPLACE INTO settings (name, value) VALUES ('prekey-next-id', ?)").run(String(first + count));
		return first;
	}
}
