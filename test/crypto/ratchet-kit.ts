import {Buffer} from 'node:buffer';
import type {KeyObject} from 'node:crypto';
import {expect} from 'vitest';
import {initRatchetInitiator, initRatchetResponder, parseHeader, type RatchetState} from '../../source/crypto/double-ratchet.js';
import {EnvelopeError, type EnvelopeKind, type Party} from '../../source/crypto/envelope.js';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {generateOneTimePrekeys, generateSignedPrekey, type OneTimePrekey, type SignedPrekey} from '../../source/crypto/prekeys.js';
import {openRatchet, sealRatchet} from '../../source/crypto/ratchet-envelope.js';
import {x3dhInitiate, x3dhRespond} from '../../source/crypto/x3dh.js';

export type User = {name: string; keys: IdentityKeys; party: Party; withSecret: Party & {x25519Secret: KeyObject}};

export function user(name: string, keys: IdentityKeys = generateIdentity()): User {
	const party = {name, identity: keys.identity.publicRaw, x25519: keys.x25519.publicRaw};
	return {name, keys, party, withSecret: {...party, x25519Secret: keys.x25519.privateKey}};
}

export type Sealed = {header: Buffer; body: string; id: string; kind: EnvelopeKind};

let counter = 0;

/** One side of a session, with the skipped-key store a client keeps beside the state. */
export class Peer {
	readonly skipped = new Map<string, Buffer>();

	constructor(
		readonly me: User,
		readonly other: User,
		public state: RatchetState,
		readonly baseKey: Buffer,
		public prekey?: {signedId: number; oneTimeId?: number},
	) {}

	send(payload: string, kind: EnvelopeKind = 'direct'): Sealed {
		const id = `m${++counter}`;
		const sealed = sealRatchet({state: this.state, sender: this.me.party, recipient: this.other.party, baseKey: this.baseKey, prekey: this.prekey, id, kind, payload});
		this.state = sealed.state;
		return {header: sealed.header, body: sealed.body, id, kind};
	}

	receive(message: Sealed): string {
		const opened = openRatchet({state: this.state, sender: this.other.party, recipient: this.me.party, ...message, skipped: this.lookup});
		this.state = opened.state;
		this.prekey = undefined;
		if (opened.usedSkipped !== undefined) this.skipped.delete(skippedId(opened.usedSkipped.dh, opened.usedSkipped.n));
		for (const entry of opened.newSkipped) this.skipped.set(skippedId(entry.dh, entry.n), entry.key);
		return opened.payload.toString();
	}

	readonly lookup = (dh: Buffer, n: number): Buffer | undefined => this.skipped.get(skippedId(dh, n));
}

function skippedId(dh: Buffer, n: number): string {
	return `${dh.toString('hex')}:${n}`;
}

export type Session = {
	alice: Peer;
	/** Bob's side exists once he has received Alice's first message (bobReceives). */
	bobReceives(message: Sealed): {bob: Peer; payload: string};
	aliceUser: User;
	bobUser: User;
	signed: SignedPrekey;
	oneTime: OneTimePrekey;
};

export function session(withOneTime = true): Session {
	const aliceUser = user('alice');
	const bobUser = user('bob');
	const signed = generateSignedPrekey(bobUser.keys.identity, 'bob', 7);
	const oneTime = generateOneTimePrekeys(41, 1)[0]!;
	const {sharedSecret, baseKey} = x3dhInitiate({
		initiator: aliceUser.withSecret,
		responder: bobUser.party,
		signed: {id: signed.id, key: signed.keyPair.publicRaw, signature: signed.signature},
		oneTime: withOneTime ? {id: oneTime.id, key: oneTime.keyPair.publicRaw} : undefined,
	});
	const state = initRatchetInitiator({sharedSecret, remote: signed.keyPair.publicRaw});
	const prekey = withOneTime ? {signedId: signed.id, oneTimeId: oneTime.id} : {signedId: signed.id};
	const alice = new Peer(aliceUser, bobUser, state, baseKey, prekey);
	const bobReceives = (message: Sealed) => {
		const header = parseHeader(message.header);
		expect(header.prekey).toEqual(prekey);
		const secret = x3dhRespond({
			responder: bobUser.withSecret,
			initiator: aliceUser.party,
			signed: {id: signed.id, secret: signed.keyPair.privateKey},
			oneTime: header.prekey?.oneTimeId === undefined ? undefined : {id: oneTime.id, secret: oneTime.keyPair.privateKey},
			baseKey: header.baseKey,
		});
		const bob = new Peer(bobUser, aliceUser, initRatchetResponder({sharedSecret: secret, signedPrekey: signed.keyPair}), header.baseKey);
		return {bob, payload: bob.receive(message)};
	};
	return {alice, bobReceives, aliceUser, bobUser, signed, oneTime};
}

/** A started session: Alice has sent one message and Bob has read it. */
export function started(): {alice: Peer; bob: Peer} {
	const {alice, bobReceives} = session();
	const {bob, payload} = bobReceives(alice.send('hello'));
	expect(payload).toBe('hello');
	return {alice, bob};
}

export function failure(action: () => unknown): EnvelopeError {
	try {
		action();
	} catch (error) {
		expect(error).toBeInstanceOf(EnvelopeError);
		return error as EnvelopeError;
	}
	throw new Error('expected an EnvelopeError, nothing was thrown');
}
