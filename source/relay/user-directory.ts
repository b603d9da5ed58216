import type {AsyncRelayStore} from './async-store.js';
import {BoundedCache} from './bounded-cache.js';
import {ContactBook, type Observers} from './contact-book.js';
import type {Logger} from './logger.js';
import type {Maybe} from './maybe.js';
import type {Audience} from './presence-batcher.js';
import type {RelayLimits} from './relay-options.js';
import type {StoredUser} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Registered users kept in memory besides those online: a login or a message reads the rest from disk. */
const cachedUsers = 4096;

/**
 * The registered users and their contacts, as the relay's rules see them (PROTOCOL.md section
 * 4.3). They stay on disk and are read a name, or a page of names, at a time: nothing here grows
 * with how many are registered but a bounded cache, and the count of them, read at start and kept.
 */
export class UserDirectory {
	private readonly users = new BoundedCache<string, StoredUser>(cachedUsers);
	private readonly contacts: ContactBook;
	/** Registered names: read from the store at start and after lapses, kept in step with registrations meanwhile. */
	private registered = 0;

	constructor(
		private readonly store: AsyncRelayStore,
		private readonly limits: Pick<RelayLimits, 'maxContacts' | 'maxInboundContacts' | 'communityMaxUsers'>,
		clock: () => number,
		private readonly log: Logger,
	) {
		this.contacts = new ContactBook(store, limits, clock, log);
	}

	/** Reads what the directory keeps in memory (a storage failure rejects: the relay does not start). */
	async load(): Promise<void> {
		this.registered = await this.store.userCount();
	}

	/** From the cache, or a point read (a storage failure rejects). */
	user(username: string): Maybe<StoredUser | undefined> {
		const cached = this.users.get(username);
		if (cached !== undefined) return cached;
		return this.store.user(username).then(user => {
			if (user !== undefined) this.users.set(username, user);
			return user;
		});
	}

	/** False if the name was registered meanwhile (by another login, or another relay). A storage failure rejects. */
	async register(user: StoredUser): Promise<boolean> {
		if (!(await this.store.registerUser(user))) return false;
		this.registered += 1;
		return true;
	}

	/** The account was used again after it registered: it no longer lapses. Returns its record as it now is. */
	confirm(user: StoredUser): Maybe<StoredUser> {
		return user.confirmed ? user : this.confirmNow(user);
	}

	private async confirmNow(user: StoredUser): Promise<StoredUser> {
		if (!(await guardStorage(this.log, 'confirm', async () => (await this.store.confirmUser(user.username), true)))) return user;
		const confirmed = {...user, confirmed: true};
		this.users.set(user.username, confirmed);
		return confirmed;
	}

	count(): number {
		return this.registered;
	}

	/** While few are registered, everyone is everyone's contact. */
	get community(): boolean {
		return this.limits.communityMaxUsers > 0 && this.count() <= this.limits.communityMaxUsers;
	}

	/** How many names a welcome of `username` lists, without reading them. */
	async listedCount(username: string): Promise<number> {
		return this.community ? this.count() : this.contacts.count(username);
	}

	/** The names `username`'s welcome lists, in name order: its contacts, or everyone else on a community relay. */
	async listedFor(username: string): Promise<string[]> {
		if (!this.community) return this.contacts.names(username);
		const everyone = (await guardStorage(this.log, 'directory', () => this.store.firstUsernames(this.limits.communityMaxUsers + 1))) ?? [];
		return everyone.filter(name => name !== username);
	}

	/** The registered ones among a page of names, in name order; undefined if the disk failed. */
	named(names: readonly string[]): Promise<StoredUser[] | undefined> {
		return guardStorage(this.log, 'directory', () => this.store.usersNamed(names));
	}

	/**
	 * Each name asked once, in the order first asked: found or missing, one indexed read each in one
	 * query. The found become chosen contacts of `asker`, in one commit. Undefined if the disk failed.
	 */
	async lookup(asker: string, names: readonly string[]): Promise<{found: StoredUser[]; missing: string[]} | undefined> {
		const asked = [...new Set(names)];
		const users = await guardStorage(this.log, 'lookup', () => this.store.usersNamed(asked));
		if (users === undefined) return undefined;
		const byName = new Map(users.map(user => [user.username, user]));
		const found = asked.flatMap(name => byName.get(name) ?? []);
		const missing = asked.filter(name => !byName.has(name));
		if (found.length > 0) await this.contacts.chooseAll(asker, found.map(user => user.username));
		return {found, missing};
	}

	/** Whether `owner` may write to `name` without paying a lookup token: itself, a contact, or anyone on a community relay. */
	knows(owner: string, name: string): Maybe<boolean> {
		return owner === name || this.community || this.contacts.has(owner, name);
	}

	/**
	 * `from` wrote to `to`: `to` becomes a chosen contact of `from`, and `from` an inbound contact of
	 * `to` unless it is one already. `introducing` runs just before `from` is added to `to`'s
	 * contacts; says whether it was.
	 */
	async wrote(from: string, to: string, introducing: () => Promise<void>): Promise<boolean> {
		if (from === to) return false;
		await this.contacts.choose(from, to);
		if (await this.contacts.has(to, from)) return false;
		await introducing();
		return this.contacts.addInbound(to, from);
	}

	/**
	 * Whether wrote(from, to) has nothing to do, known without a read: one writes to itself, or each
	 * has the other as a contact already (`from` chose `to`). The common case of a message.
	 */
	knowEachOther(from: string, to: string): boolean {
		if (from === to) return true;
		const back = this.contacts.known(to, from);
		return this.contacts.known(from, to) === 'chosen' && back !== undefined && back !== false;
	}

	/** Who hears of changes to `about`: undefined, everyone (a community relay). */
	audience(about: Iterable<string>, observers: Observers): Promise<Audience> | undefined {
		return this.community ? undefined : this.contacts.audience(about, observers);
	}

	/** The names registered before `before` and never used again, oldest first; none if the disk failed. */
	async lapsed(before: number): Promise<string[]> {
		return (await guardStorage(this.log, 'lapse', () => this.store.lapsedUsers(before))) ?? [];
	}

	/** Deletes a lapsed name with what waits for it and its contacts; says whether it was deleted. */
	async deleteLapsed(username: string): Promise<boolean> {
		if (!(await guardStorage(this.log, 'lapse', async () => (await this.store.deleteUser(username), true)))) return false;
		this.users.delete(username);
		this.registered = Math.max(0, this.registered - 1);
		return true;
	}

	/** After names were deleted: the contact caches forget what they knew, and the count is read again. */
	async lapsedDone(): Promise<void> {
		this.contacts.forget();
		const count = await guardStorage(this.log, 'lapse', () => this.store.userCount());
		if (count !== undefined) this.registered = count;
	}
}
