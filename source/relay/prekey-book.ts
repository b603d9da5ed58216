import {fromBase64Url} from '../crypto/base64url.js';
import {isWeakX25519Key} from '../crypto/identity.js';
import {verifyPrekey} from '../crypto/prekeys.js';
import {errorMessage, type GetBundleMessage, type PrekeyCount, type PrekeysMessage, type RelayMessage, type SignedPrekey} from '../net/messages.js';
import {foldUsername, isValidUsername} from '../net/usernames.js';
import type {AddressGroups} from './address-groups.js';
import {BoundedCache} from './bounded-cache.js';
import type {Logger} from './logger.js';
import type {LookupGuard} from './lookup-guard.js';
import type {Maybe} from './maybe.js';
import {KeyedBuckets, TokenBucket} from './rate-limiter.js';
import type {RelayLimits} from './relay-options.js';
import type {AsyncRelayStore} from './async-store.js';
import type {StoredUser} from './relay-store.js';
import type {SessionSink} from './session-sink.js';
import {guardStorage} from './storage-guard.js';

export type PrekeyLimits = Pick<
	RelayLimits,
	| 'maxOneTimePrekeys'
	| 'prekeyUploadsPerMinute'
	| 'bundleBurst'
	| 'bundleRatePerMinute'
	| 'bundleOneTimeEveryMs'
	| 'maxOneTimeClaimsPerHour'
	| 'prekeyLowWater'
	| 'roomBundleBurst'
	| 'roomBundlesPerMinute'
>;

/**
 * (requester, target) pairs, and targets, whose one-time claims the relay remembers: past it the
 * oldest is forgotten. Forgetting a pair lets that requester have one more of the target's keys
 * within the hour, still under the target's hourly cap; forgetting a target refills its cap. Either
 * needs this many one-time claims from other pairs (or targets) first, each paid from the bundle
 * buckets: at 30 a minute per account, hundreds of accounts for an hour.
 */
export const rememberedPairs = 100_000;
export const rememberedTargets = 100_000;

export type PrekeyBookOptions = {
	store: AsyncRelayStore;
	limits: PrekeyLimits;
	clock: () => number;
	log: Logger;
	lookups: LookupGuard;
};

/** What the book asks of the relay about its users. */
export type PrekeyRelay = {
	/** An account's record (an online account's from memory), or undefined: not registered. A storage failure rejects. */
	registered: (username: string) => Maybe<StoredUser | undefined>;
	/** Whether `from` may ask about `to` for free: otherwise a lookup token (PROTOCOL.md section 4.3). */
	knows: (from: string, to: string) => Maybe<boolean>;
	/** The connection of `username` while it is online. */
	sinkOf: (username: string) => SessionSink | undefined;
	/** Whether `a` and `b` are members of one room: their bundles cost no lookup token and draw on a bucket of their own. */
	sharesRoom: (a: string, b: string) => Promise<boolean>;
};

/** Who asks for a bundle: the account, and the address it asks from (which pays lookup tokens). */
export type Requester = {name: string; address: AddressGroups};

const noPrekeys: PrekeyCount = {oneTime: 0, signed: null};

/**
 * Users' prekeys on the relay (PROTOCOL.md section 4.4): uploads (`prekeys`), checked and stored,
 * and bundles (`get_bundle`), each within its limits. A bundle costs the relay a point read and,
 * with a one-time prekey, one delete, in one commit; an upload one signature check and at most
 * maxOneTimePrekeys inserts. Every map here is bounded: buckets per account (forgotten once full
 * again) and the remembered pairs and targets above.
 */
export class PrekeyBook {
	private readonly uploads: KeyedBuckets;
	private readonly bundles: KeyedBuckets;
	/** Bundles of people the requester shares a room with: a removal in a big room needs a session with every member. */
	private readonly roomBundles: KeyedBuckets;
	/** "requester target" -> when the requester last got one of the target's one-time prekeys; oldest first. */
	private readonly pairs = new BoundedCache<string, number>(rememberedPairs);
	/** Target -> its one-time prekeys handed out this hour, as a bucket. */
	private readonly targets = new BoundedCache<string, TokenBucket>(rememberedTargets);

	constructor(
		private readonly options: PrekeyBookOptions,
		private readonly relay: PrekeyRelay,
	) {
		const {limits, clock} = options;
		this.uploads = new KeyedBuckets(limits.prekeyUploadsPerMinute, limits.prekeyUploadsPerMinute / 60, clock);
		this.bundles = new KeyedBuckets(limits.bundleBurst, limits.bundleRatePerMinute / 60, clock);
		this.roomBundles = new KeyedBuckets(limits.roomBundleBurst, limits.roomBundlesPerMinute / 60, clock);
	}

	/** What `welcome` says of the user's prekeys; none if the database cannot be read (the client uploads again). */
	async count(username: string): Promise<PrekeyCount> {
		return (await guardStorage(this.options.log, 'prekey_count', () => this.options.store.prekeyCount(username))) ?? noPrekeys;
	}

	/** The answer to a `prekeys` from `username`, whose registered identity is `identity` (B64U): a prekey_count, or an error. */
	async upload(username: string, identity: string, message: PrekeysMessage): Promise<RelayMessage> {
		const {limits, store, log} = this.options;
		if (!this.uploads.take(username)) {
			return errorMessage('rate_limited', `at most ${limits.prekeyUploadsPerMinute} prekeys messages a minute; nothing was stored`);
		}
		if (message.signed !== undefined && !signedPrekeyVerifies(identity, username, message.signed)) {
			return errorMessage('bad_prekey', 'the signed prekey does not verify under your identity, or is a small-order key; nothing was stored');
		}
		if (message.oneTime?.some(prekey => isWeakX25519Key(fromBase64Url(prekey.key, 32)))) {
			return errorMessage('bad_prekey', 'a one-time prekey is a small-order key; nothing was stored');
		}
		const held = await guardStorage(log, 'prekeys', () => store.savePrekeys(username, message.signed, message.oneTime ?? [], limits.maxOneTimePrekeys));
		if (held === undefined) return errorMessage('storage_failed', 'the relay could not store the prekeys; send them again later');
		return {type: 'prekey_count', ...held};
	}

	/**
	 * The answer to a `get_bundle`: a bundle, or an error whose ref is its id. Paid before anything
	 * is read: a bundle token, and a lookup token for a name that is not the requester's contact (so
	 * that unknown_recipient tells no more than a lookup does). For someone the requester shares a
	 * room with, no lookup token, and a token of the room bucket while it has any (whether they share
	 * one is a read made only while a bucket has tokens).
	 */
	async bundle(requester: Requester, message: GetBundleMessage): Promise<RelayMessage> {
		const {limits, store, log, clock} = this.options;
		const {id} = message;
		const target = foldUsername(message.username);
		const roomToken = this.roomBundles.available(requester.name) >= 1;
		const coMember =
			isValidUsername(target) && (roomToken || this.bundles.available(requester.name) >= 1) && (await this.relay.sharesRoom(requester.name, target));
		if (coMember && roomToken) this.roomBundles.take(requester.name);
		else if (!this.bundles.take(requester.name)) {
			const wait = Math.ceil(this.bundles.waitMs(requester.name) / 1000);
			return errorMessage('bundle_throttled', `too many bundles asked for lately; try again in ${wait} s`, id);
		}
		if (!isValidUsername(target)) return errorMessage('unknown_recipient', 'that is not a valid username', id);
		if (!coMember && !(await this.relay.knows(requester.name, target))) {
			const paid = this.options.lookups.charge(requester.name, requester.address, 1);
			if (!paid.ok) {
				return errorMessage('lookup_throttled', `too many names you have not met asked about lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, id);
			}
		}
		const now = clock();
		const pair = `${requester.name} ${target}`;
		const last = this.pairs.get(pair);
		const targetBucket = this.targets.get(target);
		const oneTimeAllowed = (last === undefined || now - last >= limits.bundleOneTimeEveryMs) && (targetBucket?.available() ?? 1) >= 1;
		const claimed = await guardStorage(log, 'bundle', async () => (await store.claimBundle(target, oneTimeAllowed)) ?? null);
		if (claimed === undefined) return errorMessage('storage_failed', 'the relay could not read the prekeys; ask again later', id);
		if (claimed === null) return this.noBundle(target, id);
		if (claimed.oneTime !== null) {
			this.pairs.delete(pair);
			this.pairs.set(pair, now);
			this.targetBucket(target).take();
			if (claimed.remaining < limits.prekeyLowWater) {
				this.relay.sinkOf(target)?.send({type: 'prekey_count', oneTime: claimed.remaining, signed: claimed.signed.id});
			}
		}
		return {type: 'bundle', id, username: target, signed: claimed.signed, oneTime: claimed.oneTime};
	}

	/** Forgets the upload and bundle buckets that are full again. */
	sweep(): void {
		this.uploads.sweep();
		this.bundles.sweep();
		this.roomBundles.sweep();
	}

	private async noBundle(target: string, id: string): Promise<RelayMessage> {
		const registered = await guardStorage(this.options.log, 'user', async () => (await this.relay.registered(target)) ?? null);
		if (registered === undefined) return errorMessage('storage_failed', 'the relay could not read its users; ask again later', id);
		if (registered === null) return errorMessage('unknown_recipient', `nobody is registered as ${target}`, id);
		return errorMessage('no_prekeys', `${target} has published no prekeys yet`, id);
	}

	private targetBucket(target: string): TokenBucket {
		let bucket = this.targets.get(target);
		if (bucket === undefined) {
			const {maxOneTimeClaimsPerHour} = this.options.limits;
			bucket = new TokenBucket(maxOneTimeClaimsPerHour, maxOneTimeClaimsPerHour / 3600, this.options.clock);
			this.targets.set(target, bucket);
		}
		return bucket;
	}
}

/** Whether `signed` is signed by the identity `identity` (B64U, as the relay stores it) for `username`, and no small-order key. */
function signedPrekeyVerifies(identity: string, username: string, signed: SignedPrekey): boolean {
	return verifyPrekey(fromBase64Url(identity, 32), username, signed.id, fromBase64Url(signed.key, 32), fromBase64Url(signed.signature, 64));
}
