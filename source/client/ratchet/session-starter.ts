import {X3dhError} from '../../crypto/x3dh.js';
import type {ClientMessage, RelayMessage} from '../../net/messages.js';
import type {Emit} from '../client-events.js';
import type {EndToEnd} from '../end-to-end.js';
import type {Outbox} from '../outbox.js';
import {BundleRequests, bundleRetryMs, type BundlePurpose} from './bundle-requests.js';
import type {PrekeyPublisher, RelayPrekeys} from './prekey-publisher.js';
import type {Bundle, SessionChange} from './ratchet-sessions.js';

export type StarterHost = {
	emit: Emit;
	/** `name` is owed receipts: they can go now that there is a session. */
	owe(name: string): void;
	/** Seal and send what changed at the end of the turn. */
	schedule(): void;
	localError(what: string, error: unknown): void;
};

/**
 * Everything that makes and rebuilds sessions (PROTOCOL.md section 14): keeps this account's
 * prekeys on the relay, fetches the bundles of contacts it has no session with, seals the texts
 * that waited for them, and answers a session the other side rebuilt by sealing again what it did
 * not confirm.
 */
export class SessionStarter {
	readonly #bundles: BundleRequests;
	/** Contacts whose waiting texts may be sealable now. */
	readonly #toSeal = new Set<string>();
	#out: ((message: ClientMessage) => void) | undefined;
	#relayPrekeys: RelayPrekeys | undefined;
	#rotation: NodeJS.Timeout | undefined;

	constructor(
		private readonly e2e: EndToEnd,
		private readonly outbox: Outbox,
		private readonly publisher: PrekeyPublisher,
		private readonly host: StarterHost,
	) {
		this.#bundles = new BundleRequests({
			received: (name, bundle, purpose) => this.#received(name, bundle, purpose),
			unknown: (name, message) => this.#unknown(name, message),
			// Sealed for nobody until /trust: the relay serves the new identity's prekeys, which the pin cannot verify.
			held: name => this.e2e.hasChangedKey(name),
		});
	}

	/** A connection logged in: publish prekeys, and fetch bundles for every text still waiting. */
	attach(out: (message: ClientMessage) => void, relayPrekeys: RelayPrekeys): void {
		this.#out = out;
		this.prekeysCounted(relayPrekeys);
		// A client open for days still rotates its signed prekey.
		clearInterval(this.#rotation);
		this.#rotation = setInterval(() => this.#relayPrekeys && this.prekeysCounted(this.#relayPrekeys), 3_600_000);
		this.#rotation.unref();
		for (const name of this.e2e.waitingNames()) {
			if (this.e2e.hasSession(name)) this.#toSeal.add(name);
			else this.need(name);
		}
		this.#bundles.attach(out);
		this.host.schedule();
	}

	detach(): void {
		this.#out = undefined;
		clearInterval(this.#rotation);
		this.#rotation = undefined;
		this.#bundles.detach();
	}

	stop(): void {
		this.detach();
		this.#bundles.stop();
	}

	prekeysCounted(relayPrekeys: RelayPrekeys): void {
		this.#relayPrekeys = relayPrekeys;
		const out = this.#out;
		if (out === undefined) return;
		try {
			const message = this.publisher.update(relayPrekeys);
			if (message !== undefined) out(message);
		} catch (error) {
			this.host.localError('could not make new prekeys', error);
		}
	}

	/** `name` has no session: its bundle is fetched (a text or a receipt waits for it). */
	need(name: string): void {
		this.#bundles.want(name, 'first');
	}

	bundle(message: Extract<RelayMessage, {type: 'bundle'}>): void {
		this.#bundles.answered(message);
	}

	/** A refusal whose ref is one of our bundle requests. */
	refused(ref: string, code: string, message: string): boolean {
		return this.#bundles.refused(ref, code, message);
	}

	joined(name: string): void {
		this.#bundles.joined(name);
	}

	/** `name`'s keys were trusted: a bundle wanted before is asked for again, if texts still wait for it. */
	trusted(name: string): void {
		this.#bundles.forget(name);
		if (!this.e2e.hasSession(name) && this.e2e.waitingNames().includes(name)) this.need(name);
	}

	/** An envelope from `from` could not be read in any session here: rebuild, if allowed now. */
	unreadable(from: string): void {
		if (this.e2e.mayReset(from)) this.#bundles.want(from, 'reset');
	}

	/** What an opened envelope did to `from`'s sessions. */
	changed(from: string, change: SessionChange | undefined): void {
		if (change === undefined || !change.activated) return;
		if (change.resetByThem) {
			// Sealed in the session they lost: what they did not confirm goes again in the new one.
			this.outbox.removeTo(from);
			const resent = this.e2e.unconfirmedAgain(from);
			this.host.emit('session-reset', {with: from, by: 'them', resent});
		}
		this.#toSeal.add(from);
		this.host.owe(from);
		this.host.schedule();
	}

	/** Seals the texts that waited for a session, as far as the outbox has room; called at each flush. */
	sealWaiting(): void {
		for (const name of this.#toSeal) {
			const room = this.outbox.room();
			if (room <= 0) return;
			const sealed = this.e2e.sealWaiting(name, room);
			for (const envelope of sealed) this.outbox.add(envelope);
			if (sealed.length < room) this.#toSeal.delete(name);
		}
	}

	#received(name: string, bundle: Bundle, purpose: BundlePurpose): void {
		if (this.e2e.hasChangedKey(name)) {
			// Asked before the change was known: wanted again once the new keys are trusted (trusted()).
			this.#bundles.want(name, purpose);
			return;
		}
		try {
			if (purpose === 'reset') {
				this.outbox.add(this.e2e.resetSession(name, bundle));
				this.host.emit('session-reset', {with: name, by: 'me', resent: 0});
			} else {
				this.e2e.startSession(name, bundle);
			}
		} catch (error) {
			if (error instanceof X3dhError) {
				this.host.emit('relay-error', {
					code: 'bad_prekey',
					message: `the relay served a prekey for ${name} that ${name}'s identity did not sign: nothing was sealed with it; asking again later`,
					ref: null,
				});
				this.#bundles.later(name, bundleRetryMs, purpose);
				return;
			}
			this.host.localError(`could not start a secure session with ${name}`, error);
			this.#bundles.later(name, bundleRetryMs, purpose);
			return;
		}
		this.#toSeal.add(name);
		this.host.owe(name);
		this.host.schedule();
	}

	#unknown(name: string, message: string): void {
		for (const id of this.e2e.forgetSessions(name)) this.host.emit('unsent', {id, to: name, reason: message});
	}
}
