import {isIPv4, isIPv6} from 'node:net';

/**
 * The part of a peer's address one party controls, for counting connections per address: an
 * IPv4 address as it is (also when it arrives IPv4-mapped, `::ffff:a.b.c.d`), and for IPv6 its
 * /64 prefix, since a single host is routinely given a whole /64 and could otherwise open each
 * connection from a new address. Anything else is returned unchanged.
 */
export function addressKey(address: string): string {
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
	if (mapped) return mapped[1]!;
	if (isIPv4(address) || !isIPv6(address)) return address;
	const bare = address.split('%')[0]!;
	const groups = (text: string) =>
		text === '' ? [] : text.split(':').flatMap(group => (group.includes('.') ? ['0', '0'] : [group]));
	const [head = '', tail] = bare.split('::');
	const before = groups(head);
	const after = tail === undefined ? [] : groups(tail);
	const all = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
	return `${all
		.slice(0, 4)
		.map(group => Number.parseInt(group, 16).toString(16))
		.join(':')}::/64`;
}
