/** `items` in an order fixed by `seed` (a linear congruential generator): the same order on every run. */
export function shuffled<T>(items: readonly T[], seed = 14): T[] {
	const copy = [...items];
	let state = seed;
	for (let index = copy.length - 1; index > 0; index--) {
		state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
		const other = state % (index + 1);
		[copy[index], copy[other]] = [copy[other]!, copy[index]!];
	}
	return copy;
}
