import type {AsyncRelayStore} from './async-store.js';
import type {Logger} from './logger.js';
import type {QueueLedger} from './queue-ledger.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

/** Queued envelopes read per step while a user catches up; each is sent only while the connection has room. */
const backlogPage = 64;

export type BacklogOptions = {
	store: Pick<AsyncRelayStore, 'queued'>;
	log: Logger;
	ledger: QueueLedger;
	/** The session logged in as `username`, if any. */
	sessionOf: (username: string) => Session | undefined;
	/** Sends `session` the presence changes it has not heard yet: before a message from a newcomer. */
	catchUp: (username: string, session: Session) => Promise<void> | undefined;
	/** The session has had everything that waited for it (it may fall behind again later). */
	caughtUp?: (session: Session) => void;
	/**
	 * Whether more may have been committed for `username` since the last read (it is asked once
	 * per short page, and forgets the answer): then the sender reads on instead of finishing.
	 */
	again?: (username: string) => boolean;
	/** Other relays enqueue too (a cluster): the ledger does not know all that waits, so the store is always read. */
	shared?: boolean;
};

/** What waits on disk for a recipient, sent at the pace its connection reads. */
export class BacklogSender {
	constructor(private readonly options: BacklogOptions) {}

	/**
	 * Sends what waits for `username` a page at a time, each page once the connection has room,
	 * so a long queue never overruns maxBufferedBytes. Envelopes accepted meanwhile join the queue
	 * and go out in order with it; once it is empty, new ones are forwarded as they come. While it
	 * runs the session is catching up, so nothing else sends it envelopes: one runs at a time.
	 */
	async deliver(session: Session, username: string, after: number): Promise<void> {
		const {store, log, ledger, sessionOf, catchUp} = this.options;
		const current = (): boolean => session.open && sessionOf(username) === session;
		for (;;) {
			if (!current()) return;
			if (after === 0 && !this.options.shared && ledger.queued(username) === 0) {
				// nothing waits (the counts include what is on disk): no need to ask the database
				this.caughtUp(session);
				return;
			}
			const page = await guardStorage(log, 'backlog', () => store.queued(username, after, backlogPage));
			if (!current()) return;
			if (page === undefined) {
				// Nothing lost: the queue stays as it is and goes out at the next login.
				session.sink.close();
				return;
			}
			if (page.length > 0 && session.roster) {
				const told = catchUp(username, session);
				if (told !== undefined) await told;
				if (!current()) return;
			}
			for (const envelope of page) {
				if (!session.sink.hasRoom()) {
					this.resume(session, username);
					return;
				}
				session.delivered(envelope.delivery);
				session.sink.send({type: 'message', ...envelope});
			}
			if (page.length < backlogPage) {
				if (this.options.again?.(username) === true) {
					after = session.lastSent;
					continue;
				}
				this.caughtUp(session);
				return;
			}
			await new Promise<void>(resolve => session.sink.whenWritable(resolve));
			after = page.at(-1)!.delivery;
		}
	}

	private caughtUp(session: Session): void {
		session.catchingUp = false;
		this.options.caughtUp?.(session);
	}

	/** A recipient whose connection has no room takes what comes next from the queue, at its own pace. */
	fallBehind(session: Session, username: string): void {
		session.catchingUp = true;
		this.resume(session, username);
	}

	/** Once the connection has room, sends on from the last envelope the session was sent. */
	private resume(session: Session, username: string): void {
		session.sink.whenWritable(() => inBackground(this.options.log, 'backlog', this.deliver(session, username, session.lastSent), () => session.sink.close()));
	}
}
