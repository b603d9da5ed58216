import {BoundedCache} from './bounded-cache.js';
import type {Logger} from './logger.js';
import type {Audience} from './presence-batcher.js';
import type {RelayLimits} from './relay-options.js';
import type {ContactKind, RelayStore} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Edges (owner, contact) whose kind or absence is known without a read: a message between known contacts touches no disk. */
const knownEdges = 65_536;
/** Accounts whose contact counts are known. */
const knownCounts = 4096;

/** Names online, as a set or the keys of a map. */
export type Observers = {has(name: string): boolean; readonly size: number; keys(): Iterable<string>};

type Counts = {chosen: number; inbound: number};

/**
 * Every account's contacts (PROTOCOL.md section 4.3), on disk: at most maxContacts chosen ones
 * (looked up or written to) and maxInboundContacts inbound ones (they wrote; the oldest makes room
 * for the next), so strangers can never push out whom the owner chose. Reads go through two
 * bounded caches, so the messages of people who already know each other, the common case, cost no
 * database work; every write goes through here, so the caches never disagree with the disk
 * (forget() after deletions made elsewhere).
 */
export class ContactBook {
	/** False: no edge. */
	private readonly edges = new BoundedCache<string, ContactKind | false>(knownEdges);
	private readonly counts = new BoundedCache<string, Counts>(knownCounts);

	constructor(
		private readonly store: RelayStore,
		private readonly limits: Pick<RelayLimits, 'maxContacts' | 'maxInboundContacts'>,
		private readonly clock: () => number,
		private readonly log: Logger,
	) {}

	kind(owner: string, contact: string): ContactKind | undefined {
		const key = `${owner}\n${contact}`;
		let known = this.edges.get(key);
		if (known === undefined) {
			const read = guardStorage(this.log, 'contacts', () => this.store.contactKind(owner, contact) ?? false);
			if (read === undefined) return undefined;
			known = read;
			this.edges.set(key, known);
		}
		return known === false ? undefined : known;
	}

	has(owner: string, contact: string): boolean {
		return this.kind(owner, contact) !== undefined;
	}

	/** Undefined if the disk failed: then nothing is added until it answers again. */
	private countsOf(owner: string): Counts | undefined {
		let counts = this.counts.get(owner);
		if (counts === undefined) {
			counts = guardStorage(this.log, 'contacts', () => this.store.contactCounts(owner));
			if (counts === undefined) return undefined;
			this.counts.set(owner, counts);
		}
		return counts;
	}

	/** How many names `owner`'s welcome lists: both kinds. */
	count(owner: string): number {
		const counts = this.countsOf(owner);
		return counts === undefined ? 0 : counts.chosen + counts.inbound;
	}

	/**
	 * `owner` looked `contact` up or wrote to it: a chosen contact from now on, unless it is `owner`
	 * or maxContacts are chosen already (an inbound edge then stays inbound).
	 */
	choose(owner: string, contact: string): void {
		if (owner === contact) return;
		const kind = this.kind(owner, contact);
		if (kind === 'chosen') return;
		const counts = this.countsOf(owner);
		if (counts === undefined || counts.chosen >= this.limits.maxContacts) return;
		const key = `${owner}\n${contact}`;
		if (kind === 'inbound') {
			if (!guardStorage(this.log, 'contacts', () => this.store.chooseContact(owner, contact))) return;
			this.counts.set(owner, {chosen: counts.chosen + 1, inbound: counts.inbound - 1});
		} else {
			if (!guardStorage(this.log, 'contacts', () => this.store.addContact(owner, contact, 'chosen', this.clock()))) return;
			this.counts.set(owner, {...counts, chosen: counts.chosen + 1});
		}
		this.edges.set(key, 'chosen');
	}

	/**
	 * `contact` wrote to `owner`, who does not have it as a contact: an inbound contact, made room
	 * for by evicting `owner`'s oldest inbound ones (the evicted hear nothing). Says whether it was added.
	 */
	addInbound(owner: string, contact: string): boolean {
		if (owner === contact || this.limits.maxInboundContacts <= 0 || this.has(owner, contact)) return false;
		let counts = this.countsOf(owner);
		if (counts === undefined) return false;
		while (counts.inbound >= this.limits.maxInboundContacts) {
			const evicted = guardStorage(this.log, 'contacts', () => this.store.evictOldestInbound(owner));
			if (evicted === undefined) {
				this.counts.delete(owner);
				return false;
			}
			this.edges.set(`${owner}\n${evicted}`, false);
			counts = {...counts, inbound: counts.inbound - 1};
			this.counts.set(owner, counts);
		}
		if (!guardStorage(this.log, 'contacts', () => this.store.addContact(owner, contact, 'inbound', this.clock()))) return false;
		this.edges.set(`${owner}\n${contact}`, 'inbound');
		this.counts.set(owner, {...counts, inbound: counts.inbound + 1});
		return true;
	}

	/** `owner`'s contacts of both kinds in name order: at most maxContacts + maxInboundContacts names. */
	names(owner: string): string[] {
		const limit = this.limits.maxContacts + this.limits.maxInboundContacts;
		return guardStorage(this.log, 'contacts', () => this.store.contactNames(owner, limit)) ?? [];
	}

	/**
	 * Which of `observers` have each of `about` as a contact (of either kind), read once for a batch
	 * of presence. Per name it costs the smaller of its watchers and the observers: the watchers are
	 * read from the index up to one more than there are observers; past that, each observer is asked.
	 */
	audience(about: Iterable<string>, observers: Observers): Audience {
		const heard = new Map<string, Set<string>>();
		for (const name of about) {
			if (heard.has(name)) continue;
			const watchers = guardStorage(this.log, 'contacts', () => this.store.watchers(name, observers.size + 1)) ?? [];
			const hearing = new Set<string>();
			if (watchers.length <= observers.size) {
				for (const watcher of watchers) if (observers.has(watcher)) hearing.add(watcher);
			} else {
				for (const observer of observers.keys()) if (this.has(observer, name)) hearing.add(observer);
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
