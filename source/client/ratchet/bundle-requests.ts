import {randomBytes} from 'node:crypto';
import {fromBase64Url} from '../../crypto/base64url.js';
import type {ClientMessage, RelayMessage} from '../../net/messages.js';
import type {Bundle} from './ratchet-sessions.js';

/** Why a bundle is wanted: a first session with someone, or rebuilding one this side lost. */
export type BundlePurpose = 'first' | 'reset';

/** After bundle_throttled or rate_limited, and after a bundle whose signature failed, the next try waits this long. */
export const bundleRetryMs = 30_000;
/** Someone who never published prekeys is asked again after this, or at once when they come online. */
export const noPrekeysRetryMs = 5 * 60_000;

/**
 * `joinedAt`: when a join last made the client ask at once. Each ask costs a token of this
 * account's bundle bucket: a contact who reconnects again and again must not spend them all.
 */
type Wanted = {purpose: BundlePurpose; ref?: string; timer?: NodeJS.Timeout; idle?: boolean; joinedAt?: number};

export type BundleHost = {
	received(name: string, bundle: Bundle, purpose: BundlePurpose): void;
	/** `name` is not registered: nothing can ever be sealed for them. */
	unknown(name: string, message: string): void;
	/** Nothing is asked for `name` now (their key changed, not yet trusted): the want waits. */
	held(name: string): boolean;
	/** `name` has published no prekeys yet (not logged in since the relay was upgraded): what is sent to them waits. */
	noPrekeys?(name: string): void;
};

/**
 * The prekey bundles this client waits for (PROTOCOL.md section 4.4): one `get_bundle` per
 * contact at a time, sent again on the next connection, tried again later when the relay refuses.
 */
export class BundleRequests {
	readonly #wanted = new Map<string, Wanted>();
	readonly #byRef = new Map<string, string>();
	#out: ((message: ClientMessage) => void) | undefined;

	constructor(private readonly host: BundleHost) {}

	want(name: string, purpose: BundlePurpose): void {
		const wanted = this.#wanted.get(name);
		if (wanted !== undefined) {
			if (purpose === 'reset') wanted.purpose = 'reset';
			return;
		}
		this.#wanted.set(name, {purpose});
		this.#ask(name);
	}

	attach(out: (message: ClientMessage) => void): void {
		this.#out = out;
		for (const [name, wanted] of this.#wanted) if (wanted.timer === undefined && !wanted.idle) this.#ask(name);
	}

	/** The connection is gone: what was asked and not answered is asked again on the next one. */
	detach(): void {
		this.#out = undefined;
		for (const wanted of this.#wanted.values()) delete wanted.ref;
		this.#byRef.clear();
	}

	/** `name`'s bundle is no longer wanted (their keys were trusted: what waits is wanted anew). */
	forget(name: string): void {
		const wanted = this.#wanted.get(name);
		if (wanted === undefined) return;
		clearTimeout(wanted.timer);
		if (wanted.ref !== undefined) this.#byRef.delete(wanted.ref);
		this.#wanted.delete(name);
	}

	/** Stops every retry (the client stops). */
	stop(): void {
		for (const wanted of this.#wanted.values()) clearTimeout(wanted.timer);
		this.#wanted.clear();
		this.#byRef.clear();
	}

	answered(message: Extract<RelayMessage, {type: 'bundle'}>): void {
		const name = this.#byRef.get(message.id);
		if (name === undefined || name !== message.username) return;
		this.#byRef.delete(message.id);
		const wanted = this.#wanted.get(name)!;
		this.#wanted.delete(name);
		const bundle: Bundle = {
			signed: {id: message.signed.id, key: fromBase64Url(message.signed.key, 32), signature: fromBase64Url(message.signed.signature, 64)},
			...(message.oneTime ? {oneTime: {id: message.oneTime.id, key: fromBase64Url(message.oneTime.key, 32)}} : {}),
		};
		this.host.received(name, bundle, wanted.purpose);
	}

	/** A refusal whose ref is one of ours (true): tried again later, or given up for a name nobody has. */
	refused(ref: string, code: string, message: string): boolean {
		const name = this.#byRef.get(ref);
		if (name === undefined) return false;
		this.#byRef.delete(ref);
		const wanted = this.#wanted.get(name)!;
		delete wanted.ref;
		if (code === 'unknown_recipient' || code === 'invalid_username') {
			this.#wanted.delete(name);
			this.host.unknown(name, message);
		} else if (code === 'no_prekeys') {
			wanted.idle = true;
			this.later(name, noPrekeysRetryMs);
			this.host.noPrekeys?.(name);
		} else {
			this.later(name, bundleRetryMs);
		}
		return true;
	}

	/**
	 * `name` came online: one who had no prekeys has published them now. Not more than once per
	 * bundleRetryMs, or someone without prekeys who reconnects again and again would spend this
	 * account's bundle tokens (and leave none for its other contacts).
	 */
	joined(name: string): void {
		const wanted = this.#wanted.get(name);
		if (wanted?.idle !== true) return;
		const wait = (wanted.joinedAt ?? Number.NEGATIVE_INFINITY) + bundleRetryMs - Date.now();
		if (wait > 0) {
			this.later(name, wait);
			return;
		}
		wanted.joinedAt = Date.now();
		clearTimeout(wanted.timer);
		delete wanted.timer;
		delete wanted.idle;
		this.#ask(name);
	}

	/** Asks again for `name`'s bundle after `delayMs` (a bundle that failed its check is wanted again). */
	later(name: string, delayMs: number, purpose?: BundlePurpose): void {
		let wanted = this.#wanted.get(name);
		if (wanted === undefined) {
			wanted = {purpose: purpose ?? 'first'};
			this.#wanted.set(name, wanted);
		}
		clearTimeout(wanted.timer);
		wanted.timer = setTimeout(() => {
			delete wanted.timer;
			delete wanted.idle;
			this.#ask(name);
		}, delayMs);
		wanted.timer.unref();
	}

	#ask(name: string): void {
		const wanted = this.#wanted.get(name);
		const out = this.#out;
		if (wanted === undefined || wanted.ref !== undefined || out === undefined || this.host.held(name)) return;
		const ref = `b${randomBytes(9).toString('base64url')}`;
		wanted.ref = ref;
		this.#byRef.set(ref, name);
		out({type: 'get_bundle', id: ref, username: name});
	}
}
