import {isFatal, type ErrorCode} from './error-codes.js';
import type {RoomClientMessage, RoomRelayMessage, WelcomeRoom} from './room-types.js';

export type * from './room-types.js';
export {maxRoomChainIndex, maxRoomLogEntries, maxStagedKeysPerMessage} from './room-types.js';

/** Protocol messages (PROTOCOL.md section 4) as discriminated unions. Only parse*() (messages.ts) makes them from wire data. */
export type Ping = {type: 'ping'; nonce: number};
export type Pong = {type: 'pong'; nonce: number};

/** A registered user's public identity (PROTOCOL.md sections 4 and 9); keys are B64U strings. */
export type UserRecord = {username: string; online: boolean; identity: string; x25519: string; binding: string};

export type EnvelopeKind = 'direct' | 'everyone';

/**
 * What the relay forwards: routing data plus an opaque end-to-end body (PROTOCOL.md section 10).
 * Exactly one of `ephemeral` (B64U 32 bytes: the version 2 scheme) and `ratchet` (B64U of a 74, 78
 * or 82-byte Double Ratchet header); the parsers refuse both and neither.
 */
export type Envelope = {id: string; to: string; kind: EnvelopeKind; ephemeral?: string; ratchet?: string; body: string};

/** The byte lengths a `ratchet` header may have: without a prekey part, with a signed prekey id, and with a one-time prekey id too. */
export const ratchetHeaderLengths: readonly number[] = [74, 78, 82];

/** A signed prekey as it travels: `key` B64U 32 bytes, `signature` B64U 64 bytes (the identity's over it). */
export type SignedPrekey = {id: number; key: string; signature: string};

/** A one-time prekey as it travels: `key` B64U 32 bytes. */
export type OneTimePrekey = {id: number; key: string};

/** What the relay holds of a user's prekeys: one-time keys in the pool, and the signed prekey's id. */
export type PrekeyCount = {oneTime: number; signed: number | null};

/** The largest prekey id: ids are u32. */
export const maxPrekeyId = 0xff_ff_ff_ff;

/** One-time prekeys one `prekeys` message may carry. */
export const maxOneTimePrekeysPerMessage = 100;

/** A client's upload of prekeys: at least one of the two. */
export type PrekeysMessage = {type: 'prekeys'; signed?: SignedPrekey; oneTime?: OneTimePrekey[]};

/** A request for a user's prekey bundle; `id` is a message id the answer carries back. */
export type GetBundleMessage = {type: 'get_bundle'; id: string; username: string};

/** The answer to a get_bundle: `oneTime` null when none was left or the limits held it back. */
export type BundleMessage = {type: 'bundle'; id: string; username: string; signed: SignedPrekey; oneTime: OneTimePrekey | null};

export type DeliveredEnvelope = Envelope & {delivery: number; from: string; time: number};

export type RelayMessage =
	| {type: 'login_request'}
	| {
			type: 'welcome';
			username: string;
			/** Your contacts (everyone registered on a small community relay), sorted by name: the first of them. */
			users: UserRecord[];
			motd: string | null;
			/** How many more contact records follow in `directory` messages. */
			more?: number;
			/** Up to whoLimit names of users online, the most recent login first (the who-is-online view). */
			online: string[];
			/** Users online in all, you included. */
			onlineCount: number;
			/** Envelopes waiting for you on the relay as you log in; they follow the welcome (and its directory). */
			waiting: number;
			/** What the relay holds of your prekeys (absent from relays before prekeys). */
			prekeys?: PrekeyCount;
			/** The rooms you are a member of, with the last item of each one's stream (absent from relays before rooms). */
			rooms?: WelcomeRoom[];
	  }
	| {type: 'directory'; users: UserRecord[]}
	| {type: 'found'; id: string; users: UserRecord[]; missing: string[]}
	| {type: 'online'; users: string[]; total: number}
	| {type: 'user_joined'; user: UserRecord}
	| {type: 'user_left'; username: string}
	| ({type: 'message'} & DeliveredEnvelope)
	| {type: 'accepted'; id: string; to: string; time: number}
	| ({type: 'prekey_count'} & PrekeyCount)
	| BundleMessage
	| {type: 'announcement'; text: string; time: number}
	| {type: 'shutdown'; reason: string}
	| RoomRelayMessage
	| ErrorMessage
	| Ping
	| Pong;

export type ErrorMessage = {type: 'error'; code: ErrorCode; message: string; fatal: boolean; ref: string | null};

/** An error message; whether it is fatal follows from its code (PROTOCOL.md section 5). */
export function errorMessage(code: ErrorCode, message: string, ref: string | null = null): ErrorMessage {
	return {type: 'error', code, message, fatal: isFatal(code), ref};
}

export type LoginMessage = {
	type: 'login';
	username: string;
	identity: string;
	x25519: string;
	binding: string;
	proof: string;
	/** false: a headless client (a bot, a load generator) that wants no directory and no presence. */
	roster?: false;
};

/** A request to find users by name: the found become contacts (PROTOCOL.md section 4.3). */
export type LookupMessage = {type: 'lookup'; id: string; names: string[]};

export type ClientMessage =
	| LoginMessage
	| ({type: 'send'} & Envelope)
	| {type: 'ack'; deliveries: number[]}
	| LookupMessage
	| PrekeysMessage
	| GetBundleMessage
	| {type: 'who'}
	| {type: 'bye'}
	| RoomClientMessage
	| Ping
	| Pong;

export const maxAckDeliveries = 1024;

/** Names one lookup may ask for. */
export const maxLookupNames = 100;
