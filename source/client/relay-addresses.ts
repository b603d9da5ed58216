import {randomInt} from 'node:crypto';
import {lookup as dnsLookup, type LookupAddress} from 'node:dns';
import type {LookupFunction} from 'node:net';

/** How long one address of several may take to accept the connection before the next is tried. */
export const addressAttemptMs = 1500;

/** The names or addresses in a `--host` value: one, or several separated by commas (one service, one pinned key). */
export function relayHosts(host: string): string[] {
	return host
		.split(',')
		.map(part => part.trim())
		.filter(part => part.length > 0);
}

function shuffled<T>(items: T[]): T[] {
	for (let index = items.length - 1; index > 0; index--) {
		const other = randomInt(index + 1);
		[items[index], items[other]] = [items[other]!, items[index]!];
	}
	return items;
}

/**
 * A lookup for net.connect that gives every address of every host in a `--host` list, in a new
 * random order at each connection: the clients of a service spread over its relays, and with
 * autoSelectFamily, net.connect tries the next address when one refuses or does not answer in
 * addressAttemptMs (a relay that died). Hosts that fail to resolve are left out while one resolves.
 */
export const relayLookup: LookupFunction = (host, options, callback) => {
	const hosts = relayHosts(host);
	const found: LookupAddress[] = [];
	let firstError: NodeJS.ErrnoException | null = null;
	let pending = hosts.length;
	const done = (): void => {
		const seen = new Set<string>();
		const addresses = shuffled(found.filter(({address}) => !seen.has(address) && seen.add(address)));
		if (addresses.length === 0) {
			callback(firstError ?? Object.assign(new Error(`no address for ${host}`), {code: 'ENOTFOUND'}), '', 4);
			return;
		}
		if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
		else callback(null, addresses[0]!.address, addresses[0]!.family);
	};
	if (hosts.length === 0) done();
	for (const name of hosts) {
		dnsLookup(name, {all: true, ...(options.family === undefined ? {} : {family: options.family})}, (error, addresses) => {
			if (error) firstError ??= error;
			else found.push(...addresses);
			pending -= 1;
			if (pending === 0) done();
		});
	}
};
