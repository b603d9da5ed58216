import {Buffer} from 'node:buffer';
import {createHash} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {lp} from '../../source/crypto/length-prefix.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {safetyNumber} from '../../source/crypto/safety-number.js';

const key = () => generateRawKeyPair('ed25519').publicRaw;

function expected(first: {name: string; identity: Buffer}, second: {name: string; identity: Buffer}): string {
	const hash = createHash('sha256');
	hash.update('im-tui/1 safety number').update(lp(first.name)).update(lp(first.identity)).update(lp(second.name)).update(lp(second.identity));
	return hash.digest('hex').slice(0, 40);
}

describe('safety numbers (PROTOCOL.md section 12)', () => {
	it('matches a vector computed with Python hashlib', () => {
		const alice = {name: 'alice', identity: Buffer.from(Array.from({length: 32}, (_, index) => index))};
		const bob = {name: 'bob', identity: Buffer.from(Array.from({length: 32}, (_, index) => index + 32))};
		expect(safetyNumber(alice, bob)).toBe('9e330a68aa319ce6b5e54f0bdf4d18081b93398e');
		expect(safetyNumber(bob, alice)).toBe('9e330a68aa319ce6b5e54f0bdf4d18081b93398e');
	});

	it('is 40 lower-case hex digits, the same whichever order', () => {
		for (let index = 0; index < 20; index++) {
			const a = {name: `user${index}`, identity: key()};
			const b = {name: `other${index}`, identity: key()};
			const number = safetyNumber(a, b);
			expect(number).toMatch(/^[0-9a-f]{40}$/);
			expect(safetyNumber(b, a)).toBe(number);
		}
	});

	it('puts the name that sorts first bytewise first, not by locale', () => {
		// '-' (0x2d) sorts before '_' (0x5f) bytewise; collation orders them the other way round.
		const hyphen = {name: 'bo-b', identity: key()};
		const underscore = {name: 'bo_b', identity: key()};
		expect(safetyNumber(underscore, hyphen)).toBe(expected(hyphen, underscore));
		const digit = {name: '0day', identity: key()};
		const letter = {name: 'a', identity: key()};
		expect(safetyNumber(letter, digit)).toBe(expected(digit, letter));
		expect(safetyNumber({name: 'ab', identity: hyphen.identity}, {name: 'a', identity: letter.identity})).toBe(
			expected({name: 'a', identity: letter.identity}, {name: 'ab', identity: hyphen.identity}),
		);
	});

	it("changes with either side's key or name", () => {
		const a = {name: 'alice', identity: key()};
		const b = {name: 'bob', identity: key()};
		const number = safetyNumber(a, b);
		expect(safetyNumber({...a, identity: key()}, b)).not.toBe(number);
		expect(safetyNumber(a, {...b, identity: key()})).not.toBe(number);
		expect(safetyNumber({...a, name: 'alicia'}, b)).not.toBe(number);
		// Swapping the keys between the names is another number too.
		expect(safetyNumber({...a, identity: b.identity}, {...b, identity: a.identity})).not.toBe(number);
	});

	it('stays symmetric even for equal names', () => {
		const a = {name: 'same', identity: key()};
		const b = {name: 'same', identity: key()};
		expect(safetyNumber(a, b)).toBe(safetyNumber(b, a));
	});

	it('refuses keys that are not 32 bytes', () => {
		expect(() => safetyNumber({name: 'a', identity: Buffer.alloc(31)}, {name: 'b', identity: key()})).toThrow(TypeError);
	});
});
