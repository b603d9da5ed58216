import {Buffer} from 'node:buffer';
import {createHash} from 'node:crypto';
import {lp} from './length-prefix.js';

type Side = {name: string; identity: Buffer};

const label = Buffer.from('im-tui/1 safety number');

/**
 * The safety number of PROTOCOL.md section 12: the first 20 bytes of the hash as 40 lower-case
 * hex digits (group them with formatKey for display). The side whose name sorts first bytewise
 * goes first, so both users compute the same number.
 */
export function safetyNumber(a: Side, b: Side): string {
	for (const side of [a, b]) {
		if (typeof side?.name !== 'string' || !(side.identity instanceof Uint8Array) || side.identity.byteLength !== 32) {
			throw new TypeError('a safety number needs two names and two 32-byte identity keys');
		}
	}
	const order = Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8'))
		// Equal names never belong to two users; ordering by key keeps the number symmetric anyway.
		|| Buffer.compare(a.identity, b.identity);
	const [first, second] = order <= 0 ? [a, b] : [b, a];
	return createHash('sha256')
		.update(label)
		.update(lp(first.name, first.identity, second.name, second.identity))
		.digest()
		.subarray(0, 20)
		.toString('hex');
}
