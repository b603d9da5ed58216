import {randomBytes} from 'node:crypto';
import type {Cluster, LeaseLossReason} from './cluster.js';
import type {Logger} from './logger.js';
import {PresenceInbox} from './presence-inbox.js';
import type {StoredUser} from './relay-store.js';
import type {Session} from './session.js';

/**
 * Names of users online on other relays that a relay keeps at most: about 40 bytes each in a Set,
 * so a few megabytes. Past it, more remote users are not shown online here (logged once per spell).
 */
export const maxRemoteOnline = 100_000;

/** A page of the sessions table read when the set is filled (start, resync). */
const loadPage = 1000;

export type ClusterBridgeOptions = {
	cluster: Cluster;
	log: Logger;
	/** The local session logged in as `username`, if any. */
	sessionOf: (username: string) => Session | undefined;
	/** The account's record, to tell listeners of a remote join (undefined: unknown, or the disk failed). */
	userOf: (username: string) => Promise<StoredUser | undefined>;
	/** Tells local listeners of a join or a leave, as local ones are (PresenceBatcher). */
	joined: (user: StoredUser) => void;
	left: (username: string) => void;
	/** Another relay committed envelopes for this local user. */
	woken: (username: string) => void;
};

/**
 * The core's side of the cluster (cluster.ts): each session's claim of its name, who is online on
 * other relays (a set filled a page at a time from the sessions table at start, and kept from
 * announcements), sessions ended when replaced elsewhere or when this relay loses its lease, and
 * wake-ups handed to the delivery queue.
 */
export class ClusterBridge {
	/** Users online on other relays, the most recent arrival last; at most maxRemoteOnline. */
	private readonly remote = new Set<string>();
	/** Sessions that claimed (or are claiming) their name here, by connection id: one per connection. */
	private readonly claims = new Map<string, {session: Session; username: string; claimed: Promise<boolean>}>();
	private readonly ids = new WeakMap<Session, string>();
	/** The newest local claim of each name: a replaced wake-up for an older one means the successor is here. */
	private readonly latest = new Map<string, string>();
	/** Presence changes from other relays and resyncs, applied one step at a time. */
	private readonly presence: PresenceInbox;
	private full = false;

	constructor(private readonly options: ClusterBridgeOptions) {
		const {cluster} = options;
		cluster.onWake((kind, names) => {
			if (kind === 'queued') for (const name of names) options.woken(name);
		});
		this.presence = new PresenceInbox({
			apply: async (change, names) => (change === 'online' ? this.cameOnline(names) : this.wentOffline(names)),
			resync: async () => this.resync(),
			failed: (operation, error) => this.failed(operation, error),
		});
		cluster.onPresence((change, names) => this.presence.add(change, names));
		cluster.onReplaced((username, connectionId) => this.replaced(username, connectionId));
		cluster.onLeaseLost(reason => this.leaseLost(reason));
		cluster.onResync(() => this.presence.resync());
	}

	/** A step of the presence chain failed: logged, and the chain goes on (a rejection left unhandled would end the relay). */
	private failed(operation: string, error: unknown): void {
		this.options.log('internal_error', {operation, error: (error as Error).message});
	}

	/** Fills the set of users online elsewhere (a storage failure rejects: the relay does not start). */
	async load(): Promise<void> {
		for (const name of await this.readOnlineElsewhere()) this.remember(name);
	}

	isRemote(username: string): boolean {
		return this.remote.has(username);
	}

	get remoteCount(): number {
		return this.remote.size;
	}

	/** At most `limit` of the users online elsewhere, the most recent arrivals first. */
	recent(limit: number): string[] {
		if (limit <= 0) return [];
		const names = [...this.remote];
		return names.slice(-limit).reverse();
	}

	/** Makes `session` its name's one session in the service; false if PostgreSQL could not be reached or this relay has no lease. */
	claim(session: Session, username: string): Promise<boolean> {
		const id = randomBytes(12).toString('base64url');
		this.ids.set(session, id);
		this.latest.set(username, id);
		const claimed = this.options.cluster.claim(username, id).then(
			() => true,
			(error: Error) => {
				this.options.log('claim_failed', {user: username, error: error.message});
				this.claims.delete(id);
				this.ids.delete(session);
				if (this.latest.get(username) === id) this.latest.delete(username);
				return false;
			},
		);
		this.claims.set(id, {session, username, claimed});
		return claimed;
	}

	/** `username` is online here now: no longer counted elsewhere. True if it was (its listeners saw it online already). */
	arrived(username: string): boolean {
		return this.remote.delete(username);
	}

	/** The session ended: its claim is given up (once made), unless a newer session took the name meanwhile. */
	release(session: Session): void {
		const id = this.ids.get(session);
		if (id === undefined) return;
		this.ids.delete(session);
		const claim = this.claims.get(id);
		this.claims.delete(id);
		if (claim === undefined) return;
		if (this.latest.get(claim.username) === id) this.latest.delete(claim.username);
		void claim.claimed.then(async claimed => {
			if (!claimed) return;
			await this.options.cluster.release(claim.username, id).catch((error: Error) => {
				// The row stays until this relay's lease ends; a login elsewhere replaces it meanwhile.
				this.options.log('release_failed', {user: claim.username, error: error.message});
			});
		});
	}

	private replaced(username: string, connectionId: string): void {
		const claim = this.claims.get(connectionId);
		if (claim === undefined) return;
		// Replaced from another relay: the user stays online, there; listeners here hear no leave.
		if (this.latest.get(username) === connectionId) this.remember(username);
		claim.session.replace();
	}

	private leaseLost(reason: LeaseLossReason): void {
		this.options.log('cluster_lease_lost', {reason, sessions: this.claims.size});
		for (const {session} of [...this.claims.values()]) {
			session.sink.send({type: 'shutdown', reason: 'the relay lost touch with the others; connecting again'});
			session.end('shutdown');
			session.sink.close();
		}
	}

	private async cameOnline(names: readonly string[]): Promise<void> {
		for (const name of names) {
			if (this.options.sessionOf(name) !== undefined || this.remote.has(name)) continue;
			if (!this.remember(name)) continue;
			const user = await this.options.userOf(name).catch(() => undefined);
			// Gone again meanwhile, or logged in here: no join to tell.
			if (user !== undefined && this.remote.has(name) && this.options.sessionOf(name) === undefined) this.options.joined(user);
		}
	}

	private wentOffline(names: readonly string[]): void {
		for (const name of names) {
			if (this.remote.delete(name) && this.options.sessionOf(name) === undefined) this.options.left(name);
		}
	}

	/** Wake-ups may have been missed: who is online elsewhere is read again, and every local session reads its queue. */
	private async resync(): Promise<void> {
		let now: string[];
		try {
			now = await this.readOnlineElsewhere();
		} catch (error) {
			this.options.log('resync_failed', {error: (error as Error).message});
			return;
		}
		const fresh = new Set(now);
		this.wentOffline([...this.remote].filter(name => !fresh.has(name)));
		await this.cameOnline(now);
		for (const {session, username} of this.claims.values()) if (this.options.sessionOf(username) === session) this.options.woken(username);
	}

	private async readOnlineElsewhere(): Promise<string[]> {
		const names: string[] = [];
		let after = '';
		while (names.length < maxRemoteOnline) {
			const page = await this.options.cluster.onlineElsewhere(after, loadPage);
			names.push(...page);
			if (page.length < loadPage) break;
			after = page.at(-1)!;
		}
		return names.slice(0, maxRemoteOnline);
	}

	/** Adds a name to the remote set; false if it is full. */
	private remember(name: string): boolean {
		if (this.remote.has(name)) return true;
		if (this.remote.size >= maxRemoteOnline) {
			if (!this.full) this.options.log('remote_online_full', {names: maxRemoteOnline});
			this.full = true;
			return false;
		}
		this.full = false;
		this.remote.add(name);
		return true;
	}
}
