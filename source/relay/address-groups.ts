import {isIPv4, isIPv6} from 'node:net';

/**
 * The groups a peer's address belongs to, narrowest first, for counting connections: an IPv4
 * address is one group (also when it arrives IPv4-mapped, `::ffff:a.b.c.d`), in its /24;
 * an IPv6 address counts in its /64 (a single host is routinely given a whole /64), its /56 (what
 * many providers give one home) and its /48 (one site). Anything else is one group, as it is.
 */
export type AddressGroups = {
	/** The IPv4 address or the IPv6 /64: what one party controls. */
	host: string;
	/** For IPv6: the /56 and the /48 around it. */
	prefix56?: string;
	prefix48?: string;
	/**
	 * For IPv4: the /24 around it. Only registrations and lookups are also counted by it
	 * (access-guard.ts, lookup-guard.ts): a /24 is often many parties (a provider's customers), so
	 * nothing an existing user needs to log in or write is.
	 */
	subnet24?: string;
};

export function addressGroups(address: string): AddressGroups {
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
	if (mapped) return ipv4Groups(mapped[1]!);
	if (isIPv4(address)) return ipv4Groups(address);
	if (!isIPv6(address)) return {host: address};
	const groups = ipv6Groups(address.split('%')[0]!);
	const hex = (values: number[]) => values.map(value => value.toString(16)).join(':');
	return {
		host: `${hex(groups.slice(0, 4))}::/64`,
		prefix56: `${hex([...groups.slice(0, 3), groups[3]! & 0xff00])}::/56`,
		prefix48: `${hex(groups.slice(0, 3))}::/48`,
	};
}

function ipv4Groups(address: string): AddressGroups {
	return {host: address, subnet24: `${address.slice(0, address.lastIndexOf('.'))}.0/24`};
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] {
	const parse = (text: string) =>
		text === ''
			? []
			: text.split(':').flatMap(group => {
					if (!group.includes('.')) return [Number.parseInt(group, 16)];
					const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
					return [(a << 8) | b, (c << 8) | d];
				});
	const [head = '', tail] = address.split('::');
	const before = parse(head);
	if (tail === undefined) return before;
	const after = parse(tail);
	return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}
