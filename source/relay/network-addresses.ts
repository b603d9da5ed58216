import {networkInterfaces} from 'node:os';

/** The addresses other machines can reach this one at: what the relay prints for people to connect to. */
export function reachableAddresses(listenHost: string): string[] {
	if (listenHost !== '0.0.0.0' && listenHost !== '::') return [listenHost];
	const addresses: string[] = [];
	for (const entries of Object.values(networkInterfaces())) {
		for (const entry of entries ?? []) {
			if (entry.family === 'IPv4' || listenHost === '::') addresses.push(entry.address);
		}
	}
	return addresses.sort((a, b) => Number(a.startsWith('127.')) - Number(b.startsWith('127.')));
}
