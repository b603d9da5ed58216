import type {ClientMessage} from '../net/messages.js';
import {foldUsername} from '../net/usernames.js';
import {TokenBucket} from './rate-limiter.js';

/** The rate limits of one connection (PROTOCOL.md section 6). */
export type FloodLimits = {
	/** Tokens a client may spend at once before it has to wait: a pasted block of lines. */
	rateBurst: number;
	/** Tokens a second a client gains once its burst is spent. */
	ratePerSecond: number;
	/** Refused messages a client may go on sending before the relay gives up on it. */
	rateMaxRefused: number;
	/** A send costs one token more per this many body bytes. */
	bytesPerToken: number;
	/** An ack costs one token per this many delivery numbers. */
	acksPerToken: number;
};

/** A room message, whose copies to the other members are owed after the fact. */
export type RoomCopies = ClientMessage & {type: 'room_send' | 'room_change'};

/** ok: handle it. refused: answer `rate_limited` and drop it. flooding: end the connection. */
export type FloodVerdict = 'ok' | 'refused' | 'flooding';

export type FloodContext = {
	/** Users online: an `everyone` message has at most one shared copy each. */
	audience: number;
	online: (username: string) => boolean;
	/**
	 * Members of a room but the sender: a `room_send` goes out once to each. When absent, the
	 * copies are owed by whoever knows the audience, with oweCopies (the relay: as the message is handled).
	 */
	roomAudience?: (room: string) => number;
};

/** A lookup takes one message token per this many names (its lookup tokens are charged apart). */
const namesPerToken = 16;

/** A room_stage takes one token per this many sealed keys, and its bytes. */
const keysPerToken = 16;

/** A copy to someone online costs at least this: a message to 100 people costs 1 + 99/16 tokens. */
const minimumCopyCost = 1 / 16;

/** What a connection's bucket must hold again before a send is taken after one was refused: a tenth of a second's refill. */
function cooldownTokens(limits: FloodLimits): number {
	return Math.min(limits.rateBurst, Math.max(1, limits.ratePerSecond / 10));
}

/** A copy of a refused `everyone` message takes this much from the refusals bucket. */
const refusedCopyCost = 0.1;

/**
 * Charges what one connection sends after the handshake to a token bucket, by what it costs the
 * relay: a message one token; a send one more per bytesPerToken of body; an ack one per
 * acksPerToken delivery numbers; a lookup one per 16 names; a room_stage one per 16 keys and its bytes; a
 * room_send as a send, and each copy to another member of the room owed after the fact like an
 * `everyone` copy (a room_change: one token, and its entry's copies owed the same way); `bye` nothing (a client can always leave). The copies of one
 * `everyone` message to users online (consecutive sends with the same id to different online
 * recipients, at most one per user online) share the first copy's verdict, so a message to the
 * room is not refused half way; each further copy is charged after the fact for the bytes it sends
 * out (a sixteenth of a token at least), a debt later messages wait for. A copy for a user who is offline is stored, so it is charged
 * as a send of its own. A copy of a refused message costs a tenth of a refusal: a client cannot
 * send refused copies for ever.
 *
 * Refusals draw on a second bucket of `rateMaxRefused` that refills at `ratePerSecond`, each what
 * the message would have cost: a client that backs off is never cut off, one that keeps going at
 * full speed empties it and is ended.
 */
export class FloodGuard {
	private readonly messages: TokenBucket;
	private readonly refusals: TokenBucket;
	/** Copies owed per room message, while it is held anywhere. */
	private readonly copiesOwed = new WeakMap<RoomCopies, number>();
	private group: {id: string; recipients: Set<string>; verdict: 'ok' | 'refused'} | undefined;
	/**
	 * A send was refused: sends stay refused until the bucket holds a tenth of a second's tokens
	 * again, not just one. Without it a send refused at 0.9 tokens was followed, a couple of
	 * milliseconds later, by the next one taken at 1.1, which its recipient then got first once the
	 * client sent the refused one again after its pause; with it, what the client sent before it
	 * heard of the refusal is refused too, and goes again after it, in order.
	 */
	private cooling = false;

	constructor(
		private readonly limits: FloodLimits,
		clock: () => number,
	) {
		this.messages = new TokenBucket(limits.rateBurst, limits.ratePerSecond, clock);
		this.refusals = new TokenBucket(limits.rateMaxRefused, limits.ratePerSecond, clock);
	}

	check(message: ClientMessage, context: FloodContext): FloodVerdict {
		// Prekey uploads and bundles have buckets of their own (prekey-book.ts): a client's own session
		// traffic must not eat the burst a paste needs. What those buckets refuse counts here (refusedElsewhere).
		if (message.type === 'bye' || message.type === 'prekeys' || message.type === 'get_bundle') return 'ok';
		if (message.type === 'ack') return this.charge(Math.max(1, Math.ceil(message.deliveries.length / this.limits.acksPerToken)));
		if (message.type === 'lookup') return this.charge(Math.max(1, Math.ceil(message.names.length / namesPerToken)));
		if (message.type === 'room_stage') {
			const bytes = message.keys.reduce((sum, key) => sum + key.body.length + key.ratchet.length, 0);
			return this.charge(Math.ceil(message.keys.length / keysPerToken) + Math.floor(bytes / this.limits.bytesPerToken));
		}
		if (message.type === 'room_send' || message.type === 'room_change') {
			// Stored once, sent to every other member: each copy is owed after the fact, as `everyone`
			// copies are. A change is one entry each client verifies and keeps: owed the same way.
			const verdict = message.type === 'room_send' ? this.chargeSend(1 + Math.floor(message.body.length / this.limits.bytesPerToken)) : this.charge(1);
			if (verdict === 'ok' && context.roomAudience !== undefined) this.oweCopies(message, context.roomAudience(message.room));
			return verdict;
		}
		if (message.type !== 'send') return this.charge(1);
		const sendCost = 1 + Math.floor(message.body.length / this.limits.bytesPerToken);
		if (message.kind !== 'everyone') return this.chargeSend(sendCost);
		const to = foldUsername(message.to);
		if (!context.online(to)) return this.chargeSend(sendCost);
		const group = this.group;
		if (group?.id === message.id && !group.recipients.has(to) && group.recipients.size < context.audience) {
			group.recipients.add(to);
			if (group.verdict === 'refused') return this.refusals.take(refusedCopyCost) ? 'refused' : 'flooding';
			this.messages.owe(Math.max(minimumCopyCost, message.body.length / this.limits.bytesPerToken));
			return 'ok';
		}
		const verdict = this.chargeSend(sendCost);
		this.group = verdict === 'flooding' ? undefined : {id: message.id, recipients: new Set([to]), verdict};
		return verdict;
	}

	/** The copies of a room message taken, to `audience` other members (more of them): owed after the fact. */
	oweCopies(message: RoomCopies, audience: number): void {
		const bytes = message.type === 'room_send' ? message.body.length : JSON.stringify(message.entry).length;
		this.messages.owe(audience * Math.max(minimumCopyCost, bytes / this.limits.bytesPerToken));
		this.copiesOwed.set(message, (this.copiesOwed.get(message) ?? 0) + audience);
	}

	/** How many copies of `message` have been owed so far. */
	owedCopies(message: RoomCopies): number {
		return this.copiesOwed.get(message) ?? 0;
	}

	/** A request another limiter refused: it counts toward `flooding` like a refused message. */
	refusedElsewhere(): FloodVerdict {
		return this.refuse(1);
	}

	/** A refusal costs what the message would have: refused large messages run out sooner. */
	/** Both buckets are full again: forgetting this guard changes nothing. */
	get rested(): boolean {
		return this.messages.full && this.refusals.full;
	}

	private chargeSend(cost: number): FloodVerdict {
		if (this.cooling && this.messages.available() < Math.max(cost, cooldownTokens(this.limits))) return this.refuse(cost);
		this.cooling = false;
		const verdict = this.charge(cost);
		if (verdict !== 'ok') this.cooling = true;
		return verdict;
	}

	private refuse(cost: number): FloodVerdict {
		return this.refusals.take(Math.min(cost, this.limits.rateMaxRefused)) ? 'refused' : 'flooding';
	}

	private charge(cost: number): FloodVerdict {
		return this.messages.take(cost) ? 'ok' : this.refuse(cost);
	}
}

/**
 * Each account's rate, kept across its connections: logging in again does not refill it. An
 * account's guard is forgotten once it is offline and its buckets have refilled.
 */
export class AccountFloodGuards {
	private readonly guards = new Map<string, FloodGuard>();

	constructor(
		private readonly limits: FloodLimits,
		private readonly clock: () => number,
	) {}

	of(account: string): FloodGuard {
		let guard = this.guards.get(account);
		if (guard === undefined) {
			guard = new FloodGuard(this.limits, this.clock);
			this.guards.set(account, guard);
		}
		return guard;
	}

	sweep(online: (account: string) => boolean): void {
		for (const [account, guard] of this.guards) if (!online(account) && guard.rested) this.guards.delete(account);
	}
}
