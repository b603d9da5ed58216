import type {AsyncRelayStore} from './async-store.js';
import {BoundedCache} from './bounded-cache.js';
import {KeyedLock} from './keyed-lock.js';
import type {Logger} from './logger.js';
import type {Audience} from './presence-batcher.js';
import type {RelayLimits} from './relay-options.js';
import type {Maybe} from './maybe.js';
import type {ContactKind} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Edges (owner, contact) whose kind or absence is known without a read: a message between known contacts touches no disk. */
const knownEdges = 65_536;
/** Accounts whose contact counts are known. */
const knownCounts = 4096;

/** Names online, as a set or the keys of a map. */
export type Observers = {has(name: string): boolean; readonly size: number; keys(): Iterable<string>};

type Counts = {chosen: number; inbound: number};

/** What the book writes through: the store, or a transaction of it (UserDirectory.lookup). */
type ContactStore = Pick<AsyncRelayStore, 'contactKind' | 'contactCounts' | 'chooseContact' | 'addContact' | 'evictOldestInbound'>;

/**
 * Every account's contacts (PROTOCOL.md section 4.3), on disk: at most maxContacts chosen ones
 * (looked up or written to) and maxInboundContacts inbound ones (they wrote; the oldest makes room
 * for the next), so strangers can never push out whom the owner chose. Reads go through two
 * bounded caches, so the messages of people who already know each other, the common case, cost no
 * database work; every write goes through here, so the caches never disagree with the disk
 * (forget() after deletions made elsewhere). The writes to one owner's contacts run one at a time
 * (a lock per owner): two strangers writing to one person at once cannot both take its last place.
 */
export class ContactBook {
	/** False: no edge. */
	private readonly edges = new BoundedCache<string, ContactKind | false>(knownEdges);
	private readonly counts = new BoundedCache<string, Counts>(knownCounts);
	private readonly owners = new KeyedLock();

	constructor(
		private readonly store: AsyncRelayStore,
		private readonly limits: Pick<RelayLimits, 'maxContacts' | 'maxInboundContacts'>,
		private readonly clock: () => number,
		private readonly log: Logger,
	) {}

	/** The edge as the cache knows it without a read: a kind, false for none, undefined if not known. */
	known(owner: string, contact: string): ContactKind | false | undefined {
		return this.edges.get(`${owner}\n${contact}`);
	}

	async kind(owner: string, contact: string, store: ContactStore = this.store): Promise<ContactKind | undefined> {
		const key = `${owner}\n${contact}`;
		let known = this.edges.get(key);
		if (known === undefined) {
			const read = await guardStorage(this.log, 'contacts', async () => (await store.contactKind(owner, contact)) ?? false);
			if (read === undefined) return undefined;
			known = read;
			this.edges.set(key, known);
		}
		return known === false ? undefined : known;
	}

	/** Whether `owner` has `contact` as a contact: at once from the cache, or after a read. */
	has(owner: string, contact: string): Maybe<boolean> {
		const known = this.known(owner, contact);
		if (known !== undefined) return known !== false;
		return this.kind(owner, contact).then(kind => kind !== undefined);
	}

	/** Undefined if the disk failed: then nothing is added until it answers again. */
	private async countsOf(owner: string, store: ContactStore = this.store): Promise<Counts | undefined> {
		let counts = this.counts.get(owner);
		if (counts === undefined) {
			counts = await guardStorage(this.log, 'contacts', () => store.contactCounts(owner));
			if (counts === undefined) return undefined;
			this.counts.set(owner, counts);
		}
		return counts;
	}

	/** How many names `owner`'s welcome lists: both kinds. */
	async count(owner: string): Promise<number> {
		const counts = await this.countsOf(owner);
		return counts === undefined ? 0 : counts.chosen + counts.inbound;
	}

	/**
	 * `owner` looked `contact` up or wrote to it: a chosen contact from now on, unless it is `owner`
	 * or maxContacts are chosen already (an inbound edge then stays inbound).
	 */
	choose(owner: string, contact: string): Maybe<void> {
		if (owner === contact || this.known(owner, contact) === 'chosen') return;
		return this.owners.run(owner, () => this.chooseLocked(owner, contact, this.store));
	}

	/** choose() for each of `contacts`, in one transaction: undefined if it failed and kept none of them. */
	async chooseAll(owner: string, contacts: readonly string[]): Promise<true | undefined> {
		const chosen = await this.owners.run(owner, () =>
			guardStorage(this.log, 'contacts', () =>
				this.store.batch(async tx => {
					for (const contact of contacts) if (owner !== contact) await this.chooseLocked(owner, contact, tx);
					return true as const;
				}),
			),
		);
		// The commit failed and kept none of them: what the caches noted meanwhile is not so.
		if (chosen === undefined) this.forget();
		return chosen;
	}

	private async chooseLocked(owner: string, contact: string, store: ContactStore): Promise<void> {
		const kind = await this.kind(owner, contact, store);
		if (kind === 'chosen') return;
		const counts = await this.countsOf(owner, store);
		if (counts === undefined || counts.chosen >= this.limits.maxContacts) return;
		const key = `${owner}\n${contact}`;
		if (kind === 'inbound') {
			if (!(await guardStorage(this.log, 'contacts', () => store.chooseContact(owner, contact)))) return;
			this.counts.set(owner, {chosen: counts.chosen + 1, inbound: counts.inbound - 1});
		} else {
			if (!(await guardStorage(this.log, 'contacts', () => store.addContact(owner, contact, 'chosen', this.clock())))) return;
			this.counts.set(owner, {...counts, chosen: counts.chosen + 1});
		}
		this.edges.set(key, 'chosen');
	}

	/**
	 * `contact` wrote to `owner`, who does not have it as a contact: an inbound contact, made room
	 * for by evicting `owner`'s oldest inbound ones (the evicted hear nothing). Says whether it was added.
	 */
	async addInbound(owner: string, contact: string): Promise<boolean> {
		if (owner === contact || this.limits.maxInboundContacts <= 0 || (await this.has(owner, contact))) return false;
		return this.owners.run(owner, async () => {
			if (await this.has(owner, contact)) return false;
			let counts = await this.countsOf(owner);
			if (counts === undefined) return false;
			while (counts.inbound >= this.limits.maxInboundContacts) {
				const evicted = await guardStorage(this.log, 'contacts', () => this.store.evictOldestInbound(owner));
				if (evicted === undefined) {
					this.counts.delete(owner);
					return false;
				}
				this.edges.set(`${owner}\n${evicted}`, false);
				counts = {...counts, inbound: counts.inbound - 1};
				this.counts.set(owner, counts);
			}
			if (!(await guardStorage(this.log, 'contacts', () => this.store.addContact(owner, contact, 'inbound', this.clock())))) return false;
			this.edges.set(`${owner}\n${contact}`, 'inbound');
			this.counts.set(owner, {...counts, inbound: counts.inbound + 1});
			return true;
		});
	}

	/** `owner`'s contacts of both kinds in name order: at most maxContacts + maxInboundContacts names. */
	async names(owner: string): Promise<string[]> {
		const limit = this.limits.maxContacts + this.limits.maxInboundContacts;
		return (await guardStorage(this.log, 'contacts', () => this.store.contactNames(owner, limit))) ?? [];
	}

	/**
	 * Which of `observers` have each of `about` as a contact (of either kind), read once for a batch
	 * of presence. Per name it costs the smaller of its watchers and the observers: the watchers are
	 * read from the index up to one more than there are observers; past that, each observer is asked.
	 */
	async audience(about: Iterable<string>, observers: Observers): Promise<Audience> {
		const heard = new Map<string, Set<string>>();
		for (const name of about) {
			if (heard.has(name)) continue;
			const watchers = (await guardStorage(this.log, 'contacts', () => this.store.watchers(name, observers.size + 1))) ?? [];
			const hearing = new Set<string>();
			if (watchers.length <= observers.size) {
				for (const watcher of watchers) if (observers.has(watcher)) hearing.add(watcher);
			} else {
				for (const observer of [...observers.keys()]) if (await this.has(observer, name)) hearing.add(observer);
			}
			heard.set(name, hearing);
		}
		return (observer, name) => heard.get(name)?.has(observer) ?? false;
	}

	/** Edges were deleted behind the caches' back (a name lapsed). */
	forget(): void {
		this.edges.clear();
		this.counts.clear();
	}
}
