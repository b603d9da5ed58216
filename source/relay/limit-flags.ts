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

/** `off`, or `PER_HOUR,BURST`: new names per address (and relay-wide, lifted together by off). */
export function parseRegistrationLimit(value: string): Partial<RelayLimits> {
	const pair = parsePair(value);
	if (pair === undefined) throw new Error('--registration-limit must be off, or names an hour and a burst per address, e.g. 20,10');
	if (pair === 'off') {
		return {
			registrationsPerHourPerAddress: Infinity,
			registrationBurstPerAddress: Infinity,
			registrationsPerHour: Infinity,
			registrationBurst: Infinity,
		};
	}
	return {registrationsPerHourPerAddress: pair[0], registrationBurstPerAddress: pair[1]};
}

/** `off`, or `PER_MINUTE,BURST`: new connections per address. */
export function parseHandshakeLimit(value: string): Pick<RelayLimits, 'handshakesPerMinute' | 'handshakeBurst'> {
	const pair = parsePair(value);
	if (pair === undefined) throw new Error('--handshake-limit must be off, or connections a minute and a burst per address, e.g. 60,20');
	if (pair === 'off') return {handshakesPerMinute: Infinity, handshakeBurst: Infinity};
	return {handshakesPerMinute: pair[0], handshakeBurst: pair[1]};
}

/** `off`, or `PER_HOUR,BURST`: lookup tokens per account; an address gets twice that (a household). */
export function parseLookupLimit(value: string): Partial<RelayLimits> {
	const pair = parsePair(value);
	if (pair === undefined) throw new Error('--lookup-limit must be off, or names an hour and a burst per account, e.g. 600,5000');
	const [perHour, burst] = pair === 'off' ? [Infinity, Infinity] : pair;
	return {lookupsPerHour: perHour, lookupBurst: burst, lookupsPerHourPerAddress: 2 * perHour, lookupBurstPerAddress: 2 * burst};
}

/** `off` (0), or the registered users up to which everyone is everyone's contact: at most 1,000. */
export function parseCommunity(value: string): number {
	if (value.trim().toLowerCase() === 'off') return 0;
	const count = parseWholeNumber(value);
	if (count === undefined || count > maxCommunity) throw new Error(`--community must be off, or a whole number of users from 0 to ${maxCommunity}`);
	return count;
}

/** A whole number, 0 or more. */
export function parseNonNegative(flag: string, value: string): number {
	const count = parseWholeNumber(value);
	if (count === undefined) throw new Error(`--${flag} must be a whole number, 0 or more`);
	return count;
}

/** Past this many users, a relay listing everyone to everyone would send megabytes per login. */
const maxCommunity = 1000;

function parseWholeNumber(value: string): number | undefined {
	const count = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
	return Number.isSafeInteger(count) ? count : undefined;
}

function parsePair(value: string): [number, number] | 'off' | undefined {
	if (value.trim().toLowerCase() === 'off') return 'off';
	const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
	const pair: [number, number] = [Number(match?.[1]), Number(match?.[2])];
	return pair.every(isCount) ? pair : undefined;
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
