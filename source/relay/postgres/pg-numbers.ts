/**
 * A number from PostgreSQL as JavaScript's: pg returns bigint (int8), count(*) and sum() as text,
 * so that nothing beyond 2^53 is rounded unseen; the store's numbers never get there, and one that
 * did is an error, not a wrong position.
 */
export function int(value: unknown): number {
	const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
	if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new RangeError(`not a safe integer from PostgreSQL: ${String(value)}`);
	return number;
}
