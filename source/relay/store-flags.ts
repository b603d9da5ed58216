import {randomBytes} from 'node:crypto';

/** Where a relay of a service keeps what it shares with the others: PostgreSQL, its own id there, and how long its lease lasts. */
export type ClusterFlags = {url: string; relayId: string; leaseMs: number};

export const defaultLeaseMs = 10_000;

const relayIdPattern = /^[a-z0-9_]{1,40}$/;

/**
 * Parses --store, --relay-id and --lease-ms (README: the relay's flags); undefined without --store
 * (the relay keeps everything in its SQLite file). Each throws a message for people.
 */
export function parseClusterFlags(flags: {store?: string; relayId?: string; leaseMs?: string}): ClusterFlags | undefined {
	if (flags.store === undefined) {
		if (flags.relayId !== undefined) throw new Error('--relay-id names a relay in a PostgreSQL store: give --store postgres://… too');
		if (flags.leaseMs !== undefined) throw new Error('--lease-ms is for relays sharing a PostgreSQL store: give --store postgres://… too');
		return undefined;
	}
	let protocol: string | undefined;
	try {
		protocol = new URL(flags.store).protocol;
	} catch {
		protocol = undefined;
	}
	if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
		throw new Error('--store must be a PostgreSQL URL, postgres://user@host:port/database (without --store the relay uses SQLite in --data-dir)');
	}
	const relayId = flags.relayId ?? `relay_${randomBytes(6).toString('hex')}`;
	if (!relayIdPattern.test(relayId)) throw new Error('--relay-id must be 1 to 40 of a-z, 0-9 and _, and differ from every other relay\'s');
	let leaseMs = defaultLeaseMs;
	if (flags.leaseMs !== undefined) {
		leaseMs = /^\d+$/.test(flags.leaseMs.trim()) ? Number(flags.leaseMs.trim()) : Number.NaN;
		if (!Number.isSafeInteger(leaseMs) || leaseMs < 30 || leaseMs > 3_600_000) {
			throw new Error('--lease-ms must be a whole number of milliseconds from 30 to 3600000 (an hour)');
		}
	}
	return {url: flags.store, relayId, leaseMs};
}
