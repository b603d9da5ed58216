import {toBase64Url} from '../../source/crypto/base64url.js';
import type {IdentityKeys} from '../../source/crypto/identity.js';
import {signPrekey} from '../../source/crypto/prekeys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import type {FakeSession} from './fake-relay.js';

type Signed = {id: number; key: string; signature: string};
type OneTime = {id: number; key: string};
type Held = {signed?: Signed; oneTime: OneTime[]};

/**
 * The prekeys a fake or scripted relay holds (issue 14, PROTOCOL.md section 4.4), for tests that
 * script a relay by hand: it answers `prekeys` with `prekey_count` and `get_bundle` with a bundle
 * built from what a client uploaded, or from what publish() made for a user who is only a record,
 * as that user's own client would have uploaded it; `no_prekeys` for anyone else. It checks
 * nothing: the client under test checks the signature against its pin.
 */
export class FakePrekeys {
	readonly #held = new Map<string, Held>();

	/** A signed prekey (and `oneTime` one-time prekeys) for `username`, signed by `keys`. */
	publish(username: string, keys: IdentityKeys, oneTime = 1): void {
		const signedKey = generateRawKeyPair('x25519').publicRaw;
		this.#held.set(username, {
			signed: {id: 0, key: toBase64Url(signedKey), signature: toBase64Url(signPrekey(keys.identity, username, 0, signedKey))},
			oneTime: Array.from({length: oneTime}, (_, index) => ({id: index + 1, key: toBase64Url(generateRawKeyPair('x25519').publicRaw)})),
		});
	}

	/** The answer to `message` from the client logged in as `username`; undefined when it is no prekey message. */
	answer(username: string, message: {type?: unknown; [field: string]: unknown}): object | undefined {
		if (message.type === 'prekeys') {
			const held = this.#held.get(username) ?? {oneTime: []};
			if (message.signed !== undefined) held.signed = message.signed as Signed;
			for (const key of (message.oneTime as OneTime[] | undefined) ?? []) if (!held.oneTime.some(({id}) => id === key.id)) held.oneTime.push(key);
			this.#held.set(username, held);
			return {type: 'prekey_count', oneTime: held.oneTime.length, signed: held.signed?.id ?? null};
		}
		if (message.type === 'get_bundle') {
			const target = String(message.username);
			const held = this.#held.get(target);
			if (held?.signed === undefined) {
				return {type: 'error', code: 'no_prekeys', message: `${target} has not published prekeys`, fatal: false, ref: message.id};
			}
			return {type: 'bundle', id: message.id, username: target, signed: held.signed, oneTime: held.oneTime.shift() ?? null};
		}
		return undefined;
	}

	/** Answers the prekey messages the client logged in as `username` sends on a fake relay's `session`. */
	serve(session: FakeSession, username: string): void {
		let handled = 0;
		session.socket.on('data', () => {
			const messages = session.sent() as Array<{type?: unknown; [field: string]: unknown}>;
			for (; handled < messages.length; handled++) {
				const answer = this.answer(username, messages[handled]!);
				if (answer !== undefined && !session.socket.destroyed) session.socket.write(session.sealer.seal([answer]) + '\n');
			}
		});
	}
}
