import {Buffer} from 'node:buffer';
import {createHmac, hkdfSync, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {lp, u64be} from '../../source/crypto/length-prefix.js';
import {chainStep, deriveEpochSecret, epochKeys, newEpochSecret} from '../../source/crypto/room-epoch.js';

const members = [
	{username: 'alice', identity: randomBytes(32)},
	{username: 'bob', identity: randomBytes(32)},
];

describe('room epochs (design section 1)', () => {
	const secret = newEpochSecret();
	const head = randomBytes(32);

	it('fresh secrets are 32 random bytes', () => {
		expect(secret).toHaveLength(32);
		expect(newEpochSecret()).not.toEqual(secret);
	});

	it('epochKeys is deterministic and follows the design', () => {
		const keys = epochKeys(secret, head, 'team', members);
		expect(epochKeys(Buffer.from(secret), Buffer.from(head), 'team', members)).toEqual(keys);
		expect(keys.next).toEqual(Buffer.from(hkdfSync('sha256', secret, head, lp('im-tui/4 room next', 'team'), 32)));
		const senders = Buffer.from(hkdfSync('sha256', secret, head, lp('im-tui/4 room senders', 'team'), 32));
		const bob = createHmac('sha256', senders).update(Buffer.concat([lp('bob'), members[1]!.identity])).digest();
		expect(keys.chains.get('bob')).toEqual(bob);
		expect([...keys.chains.keys()]).toEqual(['alice', 'bob']);
	});

	it('gives different keys for another room, head, secret, member name or member identity', () => {
		const keys = epochKeys(secret, head, 'team', members);
		const all = [keys.next, ...keys.chains.values()];
		const others = [
			epochKeys(secret, head, 'team2', members),
			epochKeys(secret, randomBytes(32), 'team', members),
			epochKeys(randomBytes(32), head, 'team', members),
		];
		for (const other of others) {
			for (const key of [other.next, ...other.chains.values()]) expect(all.some(known => known.equals(key))).toBe(false);
		}
		const renamed = epochKeys(secret, head, 'team', [{username: 'bobby', identity: members[1]!.identity}]);
		expect(renamed.chains.get('bobby')).not.toEqual(keys.chains.get('bob'));
		const rekeyed = epochKeys(secret, head, 'team', [{username: 'bob', identity: randomBytes(32)}]);
		expect(rekeyed.chains.get('bob')).not.toEqual(keys.chains.get('bob'));
		expect(rekeyed.next).toEqual(keys.next);
		expect(keys.chains.get('alice')).not.toEqual(keys.chains.get('bob'));
	});

	it('derives the next epoch from A, the new head, the room and the index', () => {
		const {next} = epochKeys(secret, head, 'team', members);
		const newHead = randomBytes(32);
		const derived = deriveEpochSecret(next, newHead, 'team', 4);
		expect(derived).toEqual(Buffer.from(hkdfSync('sha256', next, newHead, lp('im-tui/4 room epoch', 'team', u64be(4)), 32)));
		expect(deriveEpochSecret(next, newHead, 'team', 5)).not.toEqual(derived);
		expect(deriveEpochSecret(next, randomBytes(32), 'team', 4)).not.toEqual(derived);
		expect(deriveEpochSecret(next, newHead, 'other', 4)).not.toEqual(derived);
		expect(derived).not.toEqual(next);
	});

	it('steps a sender chain: MK = HMAC(CK, 1), CK\' = HMAC(CK, 2)', () => {
		const chain = epochKeys(secret, head, 'team', members).chains.get('alice')!;
		const first = chainStep(chain);
		expect(first.messageKey).toEqual(createHmac('sha256', chain).update(Buffer.from([1])).digest());
		expect(first.chainKey).toEqual(createHmac('sha256', chain).update(Buffer.from([2])).digest());
		const second = chainStep(first.chainKey);
		expect(new Set([chain, first.messageKey, first.chainKey, second.messageKey, second.chainKey].map(key => key.toString('hex'))).size).toBe(5);
		expect(chainStep(Buffer.from(chain))).toEqual(first);
	});

	it('refuses keys of the wrong length and bad names', () => {
		expect(() => chainStep(randomBytes(31))).toThrow(TypeError);
		expect(() => epochKeys(randomBytes(16), head, 'team', members)).toThrow(TypeError);
		expect(() => epochKeys(secret, head, 'Team', members)).toThrow(TypeError);
		expect(() => epochKeys(secret, head, 'team', [{username: 'Bob', identity: randomBytes(32)}])).toThrow(TypeError);
		expect(() => deriveEpochSecret(secret, head, 'team', -1)).toThrow(RangeError);
	});
});
