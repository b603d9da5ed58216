import {protocolDefaults} from '../net/limits.js';
import {defaultStrangerRetryMs} from './contact-finder.js';
import {defaultOutboxLimits, type OutboxLimits} from './outbox.js';
import {defaultWhoIntervalMs} from './who-online.js';

/** The bounds and intervals a ChatClient works with; each has a default and can be set in its options. */
export type ClientLimits = Record<
	'maxFrameBytes' | 'maxBatchMessages' | 'handshakeTimeoutMs' | 'heartbeatIntervalMs' | 'idleTimeoutMs' | 'maxDirectoryRecords' | 'whoIntervalMs' | 'strangerRetryMs',
	number
> &
	OutboxLimits;

/**
 * A directory larger than this is not taken (it would only be a way to fill our memory): the
 * client tries again later (directory_too_large), as the relay may shrink it.
 */
export const defaultMaxDirectoryRecords = 200_000;

/** The defaults, with what `options` sets (an undefined option keeps its default). */
export function clientLimits(options: Partial<ClientLimits>): ClientLimits {
	return {
		...protocolDefaults,
		maxDirectoryRecords: defaultMaxDirectoryRecords,
		whoIntervalMs: defaultWhoIntervalMs,
		strangerRetryMs: defaultStrangerRetryMs,
		...defaultOutboxLimits,
		...definedOnly(options),
	};
}

export function definedOnly<T extends object>(options: T): Partial<T> {
	return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
