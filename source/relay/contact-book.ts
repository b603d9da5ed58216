import {BoundedCache} from './bounded-cache.js';
import type {Logger} from './logger.js';
import type {Audience} from './presence-batcher.js';
import type {RelayStore} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Edges (owner, contact) whose presence or absence is known without a read: a message between known contacts touches no disk. */
const knownEdges = 65_536;
/** Accounts whose contact count is known. */
const knownCounts = 4096;

/** Names online, as a set or the keys of a map. */
export type Observers = {has(name: string): boolean; readonly size: number; keys(): Iterable<string>};

/**
 * Every account's contacts (PROTOCOL.md section 4.3), on disk, at most maxContacts each. Reads go
 * through two bounded caches, so the messages of people who already know each other, the common
 * case, cost no database work; every write goes through here, so the caches never disagree with
 * the disk (forget() after deletions made elsewhere).
 */
export class ContactBook {
	private readonly edges = new BoundedCache<string, boolean>(knownEdges);
	private readonly counts = new BoundedCache<string, number>(knownCounts);

	constructor(
		private readonly store: RelayStore,
		private readonly maxContacts: number,
		private readonly log: Logger,
	) {}

	has(owner: string, contact: string): boolean {
		const key = `${owner}\n${contact}`;
		let known = this.edges.get(key);
		if (known === undefined) {
			known = guardStorage(this.log, 'contacts', () => this.store.hasContact(owner, contact));
			if (known === undefined) return false;
			this.edges.set(key, known);
		}
		return known;
	}

	count(owner: string): number {
		let count = this.counts.get(owner);
		if (count === undefined) {
			// A disk that fails counts as full: nothing is added until it answers again.
			count = guardStorage(this.log, 'contacts', () => this.store.contactCount(owner));
			if (count === undefined) return this.maxContacts;
			this.counts.set(owner, count);
		}
		return count;
	}

	/** Makes `contact` a contact of `owner` unless it is one, is `owner`, or the cap is reached; says whether it is new. */
	add(owner: string, contact: string): boolean {
		if (owner === contact || this.has(owner, contact)) return false;
		const count = this.count(owner);
		if (count >= this.maxContacts) return false;
		if (!guardStorage(this.log, 'contacts', () => this.store.addContact(owner, contact))) return false;
		this.edges.set(`${owner}\n${contact}`, true);
		this.counts.set(owner, count + 1);
		return true;
	}

	/** `owner`'s contacts in name order: at most maxContacts names. */
	names(owner: string): string[] {
		return guardStorage(this.log, 'contacts', () => this.store.contactNames(owner, this.maxContacts)) ?? [];
	}

	/**
	 * Which of `observers` have each of `about` as a contact, read once for a batch of presence.
	 * Per name it costs the smaller of its watchers and the observers: the watchers are read
	 * from the index up to one more than there are observers; past that, each observer is asked.
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
