import {describe, expect, it} from 'vitest';
import {addressKey} from '../../source/relay/address-key.js';
import {Admission} from '../../source/relay/admission.js';

describe('addressKey', () => {
	it.each([
		['127.0.0.1', '127.0.0.1'],
		['::ffff:127.0.0.1', '127.0.0.1'],
		['::FFFF:10.1.2.3', '10.1.2.3'],
		['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
		['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
		['2001:db8::1', '2001:db8:0:0::/64'],
		['2001:db8:1:2::', '2001:db8:1:2::/64'],
		['::1', '0:0:0:0::/64'],
		['fe80::1%eth0', 'fe80:0:0:0::/64'],
		['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
		['not an address', 'not an address'],
	])('%s counts as %s', (address, key) => {
		expect(addressKey(address)).toBe(key);
	});
});

describe('Admission', () => {
	it('refuses past maxConnectionsPerAddress with too_many_connections, other addresses still welcome', () => {
		const admission = new Admission({maxConnections: 10, maxConnectionsPerAddress: 2});
		expect(['a', 'a', 'a', 'b'].map(address => admission.admit(address))).toEqual(['ok', 'ok', 'too_many_connections', 'ok']);
		admission.release('a');
		expect(admission.admit('a')).toBe('ok');
		expect(admission.size).toBe(3);
	});

	it('refuses past maxConnections with server_full, whatever the address', () => {
		const admission = new Admission({maxConnections: 3, maxConnectionsPerAddress: 2});
		expect(['a', 'b', 'c', 'd', 'a'].map(address => admission.admit(address))).toEqual(['ok', 'ok', 'ok', 'server_full', 'server_full']);
		admission.release('b');
		expect(admission.admit('d')).toBe('ok');
	});

	it('forgets an address once its last connection closes, and ignores a release it never admitted', () => {
		const admission = new Admission({maxConnections: 10, maxConnectionsPerAddress: 10});
		admission.admit('a');
		admission.admit('a');
		admission.release('a');
		admission.release('a');
		admission.release('a');
		admission.release('never');
		expect(admission.size).toBe(0);
		expect(admission.addresses).toBe(0);
	});

	it('off (Infinity) admits without limit', () => {
		const admission = new Admission({maxConnections: Infinity, maxConnectionsPerAddress: Infinity});
		for (let index = 0; index < 10_000; index++) expect(admission.admit('127.0.0.1')).toBe('ok');
	});
});
