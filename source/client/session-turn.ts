import {maxAckDeliveries} from '../net/messages.js';
import type {Emit} from './client-events.js';
import type {ContactFinder} from './contact-finder.js';
import type {EnvelopeReader} from './envelope-reader.js';
import type {InboundQueue} from './inbound-queue.js';
import type {OutboxSender, Transmit} from './outbox-sender.js';
import type {OwedReceipts} from './owed-receipts.js';
import type {SessionStarter} from './ratchet/session-starter.js';
import type {RoomSession} from './rooms/room-session.js';

/** The parts of a chat session a turn's end works through. */
export type TurnParts = {
	emit: Emit;
	inbound: InboundQueue;
	reader: EnvelopeReader;
	receipts: OwedReceipts;
	starter: SessionStarter;
	sender: OutboxSender;
	finder: ContactFinder;
	rooms: RoomSession | undefined;
};

/**
 * The end of a chat session's turn of the event loop: receipts, settlements and acks from one turn
 * go out together. A local error (the contact store failed) is said once, until a turn ends with
 * everything saved again.
 */
export class SessionTurn {
	/** A local error was reported and the store has not worked since: say it once, not per envelope. */
	private troubled = false;
	private acks: number[] = [];
	private flushScheduled = false;
	private out: Transmit | undefined;

	constructor(private readonly parts: TurnParts) {}

	attach(out: Transmit): void {
		this.out = out;
	}

	detach(): void {
		this.out = undefined;
		this.acks = [];
	}

	acknowledge(delivery: number): void {
		this.acks.push(delivery);
		this.schedule();
	}

	schedule(): void {
		if (this.flushScheduled) return;
		this.flushScheduled = true;
		queueMicrotask(() => this.flush());
	}

	/** The contact store failed: said once, until it works again. */
	localError(what: string, error: unknown): void {
		if (this.troubled) return;
		this.troubled = true;
		const why = error instanceof Error ? error.message : String(error);
		this.parts.emit('local-error', {
			message: `this device ${what} (${why}); the relay keeps what was not saved, and the client tries again shortly`,
		});
	}

	private flush(): void {
		const {inbound, reader, receipts, starter, sender, finder, rooms} = this.parts;
		this.flushScheduled = false;
		const caughtUp = reader.catchUp();
		const settled = receipts.settle();
		try {
			starter.sealWaiting();
		} catch (error) {
			this.localError('could not seal the messages that waited for a secure session', error);
		}
		if (caughtUp && settled && inbound.empty) {
			inbound.worked();
			this.troubled = false;
		} else {
			inbound.retryLater();
		}
		try {
			sender.transmit();
		} catch (error) {
			// it reads the contacts file (whose keys changed); a damaged or unreadable file must not end the client
			this.localError('could not read the contacts', error);
			inbound.retryLater();
		}
		finder.flush();
		rooms?.flush();
		const acks = this.acks;
		this.acks = [];
		const out = this.out;
		if (out === undefined) return;
		for (let start = 0; start < acks.length; start += maxAckDeliveries) {
			out({type: 'ack', deliveries: acks.slice(start, start + maxAckDeliveries)});
		}
	}
}
