import type {RelayLimits} from './relay-options.js';

/** Parses the relay's limit flags (README: the relay's flags); each throws a message for people. */

/** `off`, or `PER_SECOND,BURST` (positive whole numbers): ratePerSecond and rateBurst. */
export function parseRateLimit(value: string): Pick<RelayLimits, 'ratePerSecond' | 'rateBurst'> {
	if (value.trim().toLowerCase() === 'off') {
		return {ratePerSecond: Number.POSITIVE_INFINITY, rateBurst: Number.POSITIVE_INFINITY};
	}
	const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
	const ratePerSecond = Number(match?.[1]);
	const rateBurst = Number(match?.[2]);
	if (!isCount(ratePerSecond) || !isCount(rateBurst)) {
		throw new Error('--rate-limit must be off, or messages a second and a burst, e.g. 100,200');
	}
	return {ratePerSecond, rateBurst};
}

/** A positive whole number, or `off` (no limit). */
export function parseCountLimit(flag: string, value: string): number {
	if (value.trim().toLowerCase() === 'off') return Number.POSITIVE_INFINITY;
	const count = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
	if (!isCount(count)) throw new Error(`--${flag} must be a positive whole number or off`);
	return count;
}

/** `on` or `off`. */
export function parseSwitch(flag: string, value: string): boolean {
	const word = value.trim().toLowerCase();
	if (word !== 'on' && word !== 'off') throw new Error(`--${flag} must be on or off`);
	return word === 'on';
}

function isCount(value: number): boolean {
	return Number.isSafeInteger(value) && value >= 1;
}
