import type pg from 'pg';
import type {Cluster, LeaseLossReason, PresenceChange, RoomNotice, RoomReadCount, WakeKind} from '../cluster.js';
import {silentLogger, type Logger} from '../logger.js';
import {checkName, relayChannel, serviceChannel} from './cluster-names.js';
import {RelayLease} from './relay-leases.js';
import {maxNamesAsked, SessionRegistry} from './session-registry.js';
import type {Wakeup} from './wakeup-payloads.js';
import {Wakeups} from './wakeups.js';

export type ClusterLinkOptions = {
	/** The database, for the listening connection of its own. */
	url: string;
	/** The store's pool: leases, claims and notifications go through it. */
	pool: pg.Pool;
	relayId: string;
	leaseMs: number;
	log?: Logger;
};

type Handlers = {
	wake: Array<(kind: WakeKind, names: readonly string[]) => void>;
	notice: Array<(notice: RoomNotice, to: readonly string[]) => void>;
	readCounts: Array<(counts: readonly RoomReadCount[]) => void>;
	presence: Array<(change: PresenceChange, names: readonly string[]) => void>;
	replaced: Array<(username: string, connectionId: string) => void>;
	leaseLost: Array<(reason: LeaseLossReason) => void>;
	resync: Array<() => void>;
};

/**
 * The relay's tie to the others (cluster.ts) over PostgreSQL: a lease renewed every third of it
 * (relay-leases.ts), one session per username (session-registry.ts), wake-ups by LISTEN/NOTIFY
 * (wakeups.ts). Every third of a lease it reaps relays whose lease ran out (their users are
 * announced offline in the reaping transaction). When it loses its lease it says so, and takes
 * a new one as soon as PostgreSQL lets it.
 */
export class ClusterLink implements Cluster {
	static async open(options: ClusterLinkOptions): Promise<ClusterLink> {
		const registry = await SessionRegistry.open(options.pool);
		const log = options.log ?? silentLogger;
		// Listening first: nothing sent once the lease is taken is missed.
		const wakeups = await Wakeups.listen(options.url, options.relayId, {log});
		const link = new ClusterLink(options, registry, wakeups, log);
		try {
			link.lease = await link.takeLease();
		} catch (error) {
			await wakeups.close();
			throw error;
		}
		wakeups.on(wakeup => link.received(wakeup));
		wakeups.onConnection(state => {
			if (state === 'restored') link.callEach(link.handlers.resync, handler => handler());
		});
		link.reaper = setInterval(() => void link.reap(), Math.max(10, Math.floor(options.leaseMs / 3)));
		link.reaper.unref();
		return link;
	}

	readonly relayId: string;
	private lease!: RelayLease;
	private reaper: NodeJS.Timeout | undefined;
	private retaking: NodeJS.Timeout | undefined;
	private stopped = false;
	private reaping = false;
	/** The connection holding each name this relay has claimed and not released: one per session, so bounded by its connections. */
	private readonly claimed = new Map<string, string>();
	private readonly handlers: Handlers = {wake: [], notice: [], readCounts: [], presence: [], replaced: [], leaseLost: [], resync: []};

	private constructor(
		private readonly options: ClusterLinkOptions,
		private readonly registry: SessionRegistry,
		private readonly wakeups: Wakeups,
		private readonly log: Logger,
	) {
		this.relayId = options.relayId;
	}

	async wake(kind: WakeKind, names: readonly string[]): Promise<void> {
		if (names.length === 0) return;
		if (kind === 'rooms') {
			await Wakeups.notify(this.options.pool, serviceChannel, {type: 'rooms', names: [...names]});
			return;
		}
		for (const [relay, usernames] of await this.elsewhere(names)) await Wakeups.notify(this.options.pool, relayChannel(relay), {type: 'queued', names: usernames});
	}

	onWake(handler: (kind: WakeKind, names: readonly string[]) => void): void {
		this.handlers.wake.push(handler);
	}

	async tell(notice: RoomNotice, to: readonly string[]): Promise<void> {
		if (to.length === 0) return;
		for (const [relay, usernames] of await this.elsewhere(to)) {
			await Wakeups.notify(this.options.pool, relayChannel(relay), {type: 'notice', ...notice, names: usernames});
		}
	}

	onNotice(handler: (notice: RoomNotice, to: readonly string[]) => void): void {
		this.handlers.notice.push(handler);
	}

	async tellReadCounts(counts: readonly RoomReadCount[]): Promise<void> {
		if (counts.length === 0) return;
		for (const [relay, senders] of await this.elsewhere([...new Set(counts.map(count => count.sender))])) {
			const theirs = new Set(senders);
			await Wakeups.notify(this.options.pool, relayChannel(relay), {type: 'read_counts', counts: counts.filter(count => theirs.has(count.sender))});
		}
	}

	onReadCounts(handler: (counts: readonly RoomReadCount[]) => void): void {
		this.handlers.readCounts.push(handler);
	}

	/** The users of `names` logged in on other relays, by relay. */
	private async elsewhere(names: readonly string[]): Promise<Map<string, string[]>> {
		const byRelay = new Map<string, string[]>();
		for (let start = 0; start < names.length; start += maxNamesAsked) {
			for (const [username, relay] of await this.registry.relayOf(names.slice(start, start + maxNamesAsked))) {
				if (relay === this.relayId) continue;
				const list = byRelay.get(relay) ?? [];
				list.push(username);
				byRelay.set(relay, list);
			}
		}
		return byRelay;
	}

	async claim(username: string, connectionId: string): Promise<void> {
		if (this.lease.lost !== undefined || this.stopped) throw new Error('this relay has lost its lease and is taking a new one');
		this.claimed.set(username, connectionId);
		try {
			await this.registry.claim(username, this.relayId, connectionId, async tx => {
				await Wakeups.notify(tx, serviceChannel, {type: 'online', names: [username]});
			});
		} catch (error) {
			if (this.claimed.get(username) === connectionId) this.claimed.delete(username);
			throw error;
		}
	}

	async release(username: string, connectionId: string): Promise<void> {
		try {
			await this.registry.release(username, this.relayId, connectionId, async tx => {
				await Wakeups.notify(tx, serviceChannel, {type: 'offline', names: [username]});
			});
		} finally {
			if (this.claimed.get(username) === connectionId) this.claimed.delete(username);
		}
	}

	async announce(change: PresenceChange, names: readonly string[]): Promise<void> {
		await Wakeups.notify(this.options.pool, serviceChannel, {type: change, names: names.map(checkName)});
	}

	onPresence(handler: (change: PresenceChange, names: readonly string[]) => void): void {
		this.handlers.presence.push(handler);
	}

	onReplaced(handler: (username: string, connectionId: string) => void): void {
		this.handlers.replaced.push(handler);
	}

	onLeaseLost(handler: (reason: LeaseLossReason) => void): void {
		this.handlers.leaseLost.push(handler);
	}

	onResync(handler: () => void): void {
		this.handlers.resync.push(handler);
	}

	/** A bounded range of the sessions' primary key, skipping this relay's own. */
	async onlineElsewhere(after: string, limit: number): Promise<string[]> {
		const bounded = Math.max(1, Math.min(maxNamesAsked, Math.floor(limit)));
		const {rows} = await this.options.pool.query<{username: string}>(
			'select username from sessions where username > $1 and relay <> $2 order by username limit $3',
			[after, this.relayId, bounded],
		);
		return rows.map(row => row.username);
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearInterval(this.reaper);
		clearTimeout(this.retaking);
		try {
			if (this.lease.lost === undefined) await this.lease.release();
			else this.lease.stopRenewing();
		} catch (error) {
			this.log('lease_release_failed', {relay: this.relayId, error: (error as Error).message});
		}
		await this.wakeups.close();
	}

	private received(wakeup: Wakeup): void {
		if (this.stopped) return;
		if (wakeup.type === 'replaced') {
			if (this.claimed.get(wakeup.username) === wakeup.connection) this.claimed.delete(wakeup.username);
			this.callEach(this.handlers.replaced, handler => handler(wakeup.username, wakeup.connection));
			return;
		}
		if (wakeup.type === 'read_counts') {
			this.callEach(this.handlers.readCounts, handler => handler(wakeup.counts));
			return;
		}
		if (wakeup.type === 'notice') {
			const {kind, room, user, names} = wakeup;
			this.callEach(this.handlers.notice, handler => handler({kind, room, user}, names));
			return;
		}
		if (wakeup.type === 'queued' || wakeup.type === 'rooms') {
			const kind = wakeup.type;
			this.callEach(this.handlers.wake, handler => handler(kind, wakeup.names));
			return;
		}
		const names = wakeup.names.filter(name => !this.claimed.has(name));
		const change = wakeup.type;
		if (names.length > 0) this.callEach(this.handlers.presence, handler => handler(change, names));
	}

	private async takeLease(): Promise<RelayLease> {
		return RelayLease.acquire(this.options.pool, this.relayId, {
			leaseMs: this.options.leaseMs,
			log: this.log,
			onLost: reason => this.lost(reason),
		});
	}

	/** The lease is gone: the core ends its sessions; a new lease is tried every third of a lease until one is taken. */
	private lost(reason: LeaseLossReason): void {
		if (this.stopped) return;
		this.claimed.clear();
		this.callEach(this.handlers.leaseLost, handler => handler(reason));
		const retake = () => {
			this.retaking = setTimeout(() => {
				if (this.stopped) return;
				this.takeLease().then(
					lease => {
						if (this.stopped) {
							void lease.release().catch(() => undefined);
							return;
						}
						this.lease = lease;
						this.log('lease_retaken', {relay: this.relayId});
						this.callEach(this.handlers.resync, handler => handler());
					},
					(error: Error) => {
						this.log('lease_retake_failed', {relay: this.relayId, error: error.message});
						retake();
					},
				);
			}, Math.max(10, Math.floor(this.options.leaseMs / 3)));
			this.retaking.unref();
		};
		retake();
	}

	/** Reaps relays whose lease ran out; their users are announced offline as they are reaped (relay-leases.ts). */
	private async reap(): Promise<void> {
		if (this.reaping || this.stopped || this.lease.lost !== undefined) return;
		this.reaping = true;
		try {
			for (const relay of await this.lease.expired()) await this.lease.reap(relay);
		} catch (error) {
			this.log('reap_failed', {relay: this.relayId, error: (error as Error).message});
		} finally {
			this.reaping = false;
		}
	}

	private callEach<H>(handlers: readonly H[], call: (handler: H) => void): void {
		for (const handler of handlers) {
			try {
				call(handler);
			} catch (error) {
				this.log('cluster_handler_failed', {error: (error as Error).message});
			}
		}
	}
}
