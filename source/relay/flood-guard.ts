import type {ClientMessage} from '../net/messages.js';
import {foldUsername} from '../net/usernames.js';
import {TokenBucket} from './rate-limiter.js';

/** The rate limits of one connection (PROTOCOL.md section 6). */
export type FloodLimits = {
	/** Messages a client may send at once before it has to wait: a pasted block of lines. */
	rateBurst: number;
	/** Messages a second a client may keep sending once its burst is spent. */
	ratePerSecond: number;
	/** Refused messages a client may go on sending before the relay gives up on it. */
	rateMaxRefused: number;
};

/** ok: handle it. refused: answer `rate_limited` and drop it. flooding: end the connection. */
export type FloodVerdict = 'ok' | 'refused' | 'flooding';

/**
 * Counts what one connection sends after the handshake against a token bucket: one token a
 * message, whatever the framing. Two exceptions keep people within the limit: `bye` is free (a
 * client can always leave), and the copies of one `everyone` message (consecutive sends with the
 * same id to different recipients) share the first copy's verdict, so writing to a large room
 * costs what writing to one person costs. The copies are capped at `audience` (the registered
 * users), so sharing a token can never buy more than one envelope per user.
 *
 * Refusals draw on a second bucket of `rateMaxRefused` that refills at `ratePerSecond`: a client
 * that backs off is never cut off, one that keeps going at full speed empties it and is ended.
 */
export class FloodGuard {
	private readonly messages: TokenBucket;
	private readonly refusals: TokenBucket;
	private group: {id: string; recipients: Set<string>; verdict: 'ok' | 'refused'} | undefined;

	constructor(limits: FloodLimits, clock: () => number) {
		this.messages = new TokenBucket(limits.rateBurst, limits.ratePerSecond, clock);
		this.refusals = new TokenBucket(limits.rateMaxRefused, limits.ratePerSecond, clock);
	}

	check(message: ClientMessage, audience: number): FloodVerdict {
		if (message.type === 'bye') return 'ok';
		if (message.type !== 'send' || message.kind !== 'everyone') return this.charge();
		const to = foldUsername(message.to);
		const group = this.group;
		if (group?.id === message.id && !group.recipients.has(to) && group.recipients.size < audience) {
			group.recipients.add(to);
			return group.verdict;
		}
		const verdict = this.charge();
		this.group = verdict === 'flooding' ? undefined : {id: message.id, recipients: new Set([to]), verdict};
		return verdict;
	}

	private charge(): FloodVerdict {
		if (this.messages.take()) return 'ok';
		return this.refusals.take() ? 'refused' : 'flooding';
	}
}
