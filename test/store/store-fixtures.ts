import type {OneTimePrekey, SignedPrekey} from '../../source/net/messages.js';
import type {NewEnvelope, StoredUser} from '../../source/relay/relay-store.js';

export {withStore, type OpenStore} from './room-fixtures.js';

/** A time like a real one: beyond 32 bits, as the columns must hold. */
export const now = 1_767_000_000_000;

export function storedUser(username: string, fields: Partial<StoredUser> = {}): StoredUser {
	return {
		username,
		identity: `i${username}`.padEnd(43, 'I'),
		x25519: `x${username}`.padEnd(43, 'X'),
		binding: `b${username}`.padEnd(86, 'B'),
		registeredAt: now,
		confirmed: true,
		...fields,
	};
}

/** An envelope as the relay enqueues it: an ephemeral-key one unless `ratchet` is given. */
export function envelope(from: string, to: string, id: string, fields: Partial<NewEnvelope> = {}): NewEnvelope {
	const base: NewEnvelope = {from, to, id, kind: 'direct', body: `body-of-${id}`.replace(/[^A-Za-z0-9_-]/g, '_'), time: now};
	return fields.ratchet === undefined ? {...base, ephemeral: 'e'.repeat(43), ...fields} : {...base, ...fields};
}

export function signedPrekey(id: number): SignedPrekey {
	return {id, key: `signed-${id}`.padEnd(43, 'S'), signature: `sig-${id}`.padEnd(86, 'G')};
}

export function oneTimePrekeys(...ids: number[]): OneTimePrekey[] {
	return ids.map(id => ({id, key: `one-${id}`.padEnd(43, 'O')}));
}
