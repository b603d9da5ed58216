import {X3dhError} from '../../crypto/x3dh.js';
import type {ClientMessage, RelayMessage} from '../../net/messages.js';
import type {Emit} from '../client-events.js';
import type {EndToEnd} from '../end-to-end.js';
import type {Outbox} from '../outbox.js';
import {BundleRequests, bundleRetryMs, type BundlePurpose} from './bundle-requests.js';
import type {PrekeyPublisher, RelayPrekeys} from './prekey-publisher.js';
import {resetIntervalMs} from './ratchet-envelopes.js';
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
	/** Contacts already told about as having no prekeys (said once per run). */
	readonly #toldNoPrekeys = new Set<string>();
	/** Contacts whose messages this device could not read, with a rebuild not allowed yet: tried again later. */
	readonly #rebuildLater = new Map<string, NodeJS.Timeout>();

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
			noPrekeys: name => this.#noPrekeys(name),
		});
	}

	/** A connection logged in: publish prekeys, and fetch bundles for every text still waiting. */
	attach(out: (message: ClientMessage) => void, relayPrekeys: RelayPrekeys): void {
		this.#out = out;
		this.prekeysCounted(relayPrekeys);
		// A client open for days still rotates its signed prekey.
		clearInterval(this.#rotation);
		this.#rotation = setInterval(() => {
			if (this.#relayPrekeys) this.prekeysCounted(this.#relayPrekeys);
			// Expired skipped keys and texts go while the client runs, not only at its next start.
			this.#safely('could not forget expired message keys', () => this.e2e.prune());
		}, 3_600_000);
		this.#rotation.unref();
		this.#safely('could not read the messages waiting for a secure session', () => {
			for (const name of this.e2e.waitingNames()) {
				if (this.e2e.hasSession(name)) this.#toSeal.add(name);
				else this.need(name);
			}
		});
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
		for (const timer of this.#rebuildLater.values()) clearTimeout(timer);
		this.#rebuildLater.clear();
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

	/**
	 * `name`'s keys were trusted: what waited for them may be sealed now, and a bundle wanted before
	 * is asked for again, if texts still wait for it.
	 */
	trusted(name: string): void {
		this.#toSeal.add(name);
		this.#bundles.forget(name);
		this.#safely('could not read the messages waiting for a secure session', () => {
			if (!this.e2e.hasSession(name) && this.e2e.waitingNames().includes(name)) this.need(name);
		});
	}

	/**
	 * An envelope from `from` could not be read in any session here: rebuild, if allowed now;
	 * otherwise once it is, unless something from them opens meanwhile.
	 */
	unreadable(from: string): void {
		const now = this.#safely('could not read its secure sessions', () => this.e2e.mayReset(from));
		if (now === undefined) return;
		if (now) {
			this.#bundles.want(from, 'reset');
			return;
		}
		if (this.#rebuildLater.has(from)) return;
		const timer = setTimeout(() => {
			this.#rebuildLater.delete(from);
			this.unreadable(from);
		}, resetIntervalMs);
		timer.unref();
		this.#rebuildLater.set(from, timer);
	}

	/** What an opened envelope did to `from`'s sessions (it opened: no rebuild is waiting any more). */
	changed(from: string, change: SessionChange | undefined): void {
		clearTimeout(this.#rebuildLater.get(from));
		this.#rebuildLater.delete(from);
		if (change === undefined || !change.activated) return;
		if (change.resetByThem) {
			// Sealed in the session they lost: what they did not confirm goes again in the new one.
			// Version 2 envelopes (a 0.3 outbox) do not depend on any session: they still go.
			if (change.resent !== undefined) this.outbox.removeTo(from, envelope => envelope.ratchet !== undefined);
			this.host.emit('session-reset', {with: from, by: 'them', resent: change.resent ?? 0});
		}
		this.#toSeal.add(from);
		this.host.owe(from);
		this.host.schedule();
	}

	/**
	 * Seals the texts that waited for a session, as far as the outbox has room; called at each
	 * flush. Not for a contact whose key change waits for /trust (trust() seals them then).
	 */
	sealWaiting(): void {
		for (const name of this.#toSeal) {
			const room = this.outbox.room();
			if (room <= 0) return;
			if (this.e2e.hasChangedKey(name)) {
				this.#toSeal.delete(name);
				continue;
			}
			const sealed = this.#safely(`could not seal the messages to ${name} that waited for a secure session`, () => this.e2e.sealWaiting(name, room));
			if (sealed === undefined) continue;
			for (const envelope of sealed) this.outbox.add(envelope, true);
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
				const {envelope, resent} = this.e2e.resetSession(name, bundle);
				this.outbox.removeTo(name, waiting => waiting.ratchet !== undefined);
				this.outbox.add(envelope, true);
				this.host.emit('session-reset', {with: name, by: 'me', resent});
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

	#noPrekeys(name: string): void {
		if (this.#toldNoPrekeys.has(name)) return;
		this.#toldNoPrekeys.add(name);
		this.host.emit('relay-error', {
			code: 'no_prekeys',
			message: `${name} has not logged in since the relay was upgraded: what you send them waits on this device and goes out once they do`,
			ref: null,
		});
	}

	#unknown(name: string, message: string): void {
		const dropped = this.#safely('could not drop the messages to a name nobody has', () => this.e2e.dropWaiting(name)) ?? [];
		for (const id of dropped) this.host.emit('unsent', {id, to: name, reason: message});
	}

	/** What fails here is this device's storage (a full disk, a damaged row): reported, never thrown into the connection. */
	#safely<T>(what: string, work: () => T): T | undefined {
		try {
			return work();
		} catch (error) {
			this.host.localError(what, error);
			return undefined;
		}
	}
}
