import {toBase64Url} from '../../crypto/base64url.js';
import type {ClientMessage} from '../../net/messages.js';
import {oneTimeLowWater, oneTimeTarget, signedPrekeyLifetimeMs, type OwnPrekeys} from './own-prekeys.js';

/** What the relay holds of this account's prekeys (welcome, prekey_count). */
export type RelayPrekeys = {oneTime: number; signed: number | null};

/** An upload's answer is awaited this long before the pool is topped up again. */
const uploadGraceMs = 10_000;

/**
 * Keeps this account's prekeys on the relay (PROTOCOL.md section 14.1): a signed prekey no older
 * than signedPrekeyLifetimeMs, and a pool of one-time prekeys topped up to oneTimeTarget once the
 * relay says it fell under oneTimeLowWater.
 */
export class PrekeyPublisher {
	#uploadedAt = Number.NEGATIVE_INFINITY;

	constructor(
		private readonly prekeys: OwnPrekeys,
		private readonly clock: () => number = Date.now,
	) {}

	/** The `prekeys` message that brings the relay up to date, if it needs one. */
	update(relay: RelayPrekeys): ClientMessage | undefined {
		const now = this.clock();
		let signed = this.prekeys.signed();
		let sendSigned = false;
		if (signed === undefined || now - signed.created >= signedPrekeyLifetimeMs) {
			signed = this.prekeys.rotateSigned(now);
			sendSigned = true;
		} else if (relay.signed !== signed.id) {
			sendSigned = true;
		}
		const topUp = relay.oneTime < oneTimeLowWater && now - this.#uploadedAt >= uploadGraceMs;
		const oneTime = topUp ? this.prekeys.addOneTime(oneTimeTarget - relay.oneTime, now) : [];
		if (!sendSigned && oneTime.length === 0) return undefined;
		if (oneTime.length > 0) this.#uploadedAt = now;
		return {
			type: 'prekeys',
			...(sendSigned ? {signed: {id: signed.id, key: toBase64Url(signed.key), signature: toBase64Url(signed.signature)}} : {}),
			...(oneTime.length > 0 ? {oneTime: oneTime.map(({id, key}) => ({id, key: toBase64Url(key)}))} : {}),
		};
	}
}
