import {BoundedCache} from './bounded-cache.js';
import {ContactBook, type Observers} from './contact-book.js';
import type {Logger} from './logger.js';
import type {Audience} from './presence-batcher.js';
import type {RelayLimits} from './relay-options.js';
import type {RelayStore, StoredUser} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Registered users kept in memory besides those online: a login or a message reads the rest from disk. */
const cachedUsers = 4096;

/**
 * The registered users and their contacts, as the relay's rules see them (PROTOCOL.md section
 * 4.3). They stay on disk and are read a name, or a page of names, at a time: nothing here grows
 * with how many are registered but a bounded cache.
 */
export class UserDirectory {
	private readonly users = new BoundedCache<string, StoredUser>(cachedUsers);
	private readonly contacts: ContactBook;

	constructor(
		private readonly store: RelayStore,
		private readonly limits: Pick<RelayLimits, 'maxContacts' | 'maxInboundContacts' | 'communityMaxUsers'>,
		clock: () => number,
		private readonly log: Logger,
	) {
		this.contacts = new ContactBook(store, limits, clock, log);
	}

	/** A point read (a storage failure throws). */
	user(username: string): StoredUser | undefined {
		const cached = this.users.get(username);
		if (cached !== undefined) return cached;
		const user = this.store.user(username);
		if (user !== undefined) this.users.set(username, user);
		return user;
	}

	register(user: StoredUser): void {
		this.store.registerUser(user);
	}

	/** The account was used again after it registered: it no longer lapses. Returns its record as it now is. */
	confirm(user: StoredUser): StoredUser {
		if (user.confirmed) return user;
		if (!guardStorage(this.log, 'confirm', () => (this.store.confirmUser(user.username), true))) return user;
		const confirmed = {...user, confirmed: true};
		this.users.set(user.username, confirmed);
		return confirmed;
	}

	count(): number {
		return this.store.userCount();
	}

	/** While few are registered, everyone is everyone's contact. */
	get community(): boolean {
		return this.limits.communityMaxUsers > 0 && this.count() <= this.limits.communityMaxUsers;
	}

	/** How many names a welcome of `username` lists, without reading them. */
	listedCount(username: string): number {
		return this.community ? this.count() : this.contacts.count(username);
	}

	/** The names `username`'s welcome lists, in name order: its contacts, or everyone else on a community relay. */
	listedFor(username: string): string[] {
		if (!this.community) return this.contacts.names(username);
		const everyone = guardStorage(this.log, 'directory', () => this.store.firstUsernames(this.limits.communityMaxUsers + 1)) ?? [];
		return everyone.filter(name => name !== username);
	}

	/** The registered ones among a page of names, in name order; undefined if the disk failed. */
	named(names: readonly string[]): StoredUser[] | undefined {
		return guardStorage(this.log, 'directory', () => this.store.usersNamed(names));
	}

	/**
	 * Each name asked once, in the order first asked: found or missing, one indexed read each in one
	 * query. The found become chosen contacts of `asker`. Undefined if the disk failed.
	 */
	lookup(asker: string, names: readonly string[]): {found: StoredUser[]; missing: string[]} | undefined {
		const asked = [...new Set(names)];
		const users = guardStorage(this.log, 'lookup', () => this.store.usersNamed(asked));
		if (users === undefined) return undefined;
		const byName = new Map(users.map(user => [user.username, user]));
		const found = asked.flatMap(name => byName.get(name) ?? []);
		const missing = asked.filter(name => !byName.has(name));
		// One commit for the contacts a lookup makes, not one per name found.
		const chosen = guardStorage(this.log, 'contacts', () =>
			this.store.batch(() => {
				for (const user of found) this.contacts.choose(asker, user.username);
				return true;
			}),
		);
		// The commit failed and kept none of them: what the caches noted meanwhile is not so.
		if (chosen === undefined) this.contacts.forget();
		return {found, missing};
	}

	/** Whether `owner` may write to `name` without paying a lookup token: itself, a contact, or anyone on a community relay. */
	knows(owner: string, name: string): boolean {
		return owner === name || this.community || this.contacts.has(owner, name);
	}

	/**
	 * `from` wrote to `to`: `to` becomes a chosen contact of `from`, and `from` an inbound contact of
	 * `to` unless it is one already. `introducing` runs just before `from` is added to `to`'s
	 * contacts; says whether it was.
	 */
	wrote(from: string, to: string, introducing: () => void): boolean {
		if (from === to) return false;
		this.contacts.choose(from, to);
		if (this.contacts.has(to, from)) return false;
		introducing();
		return this.contacts.addInbound(to, from);
	}

	/** Who hears of changes to `about`: undefined, everyone (a community relay). */
	audience(about: Iterable<string>, observers: Observers): Audience | undefined {
		return this.community ? undefined : this.contacts.audience(about, observers);
	}

	/** Deletes the names registered before `before` and never used again but those `keep` says; returns how many. */
	lapse(before: number, keep: (username: string) => boolean): number {
		const lapsed = guardStorage(this.log, 'lapse', () => this.store.lapsedUsers(before)) ?? [];
		let deleted = 0;
		for (const username of lapsed) {
			if (keep(username) || !guardStorage(this.log, 'lapse', () => (this.store.deleteUser(username), true))) continue;
			this.users.delete(username);
			deleted += 1;
		}
		if (deleted > 0) this.contacts.forget();
		return deleted;
	}
}
