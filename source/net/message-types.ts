import {isFatal, type ErrorCode} from './error-codes.js';

/** Protocol messages (PROTOCOL.md section 4) as discriminated unions. Only parse*() (messages.ts) makes them from wire data. */
export type Ping = {type: 'ping'; nonce: number};
export type Pong = {type: 'pong'; nonce: number};

/** A registered user's public identity (PROTOCOL.md sections 4 and 9); keys are B64U strings. */
export type UserRecord = {username: string; online: boolean; identity: string; x25519: string; binding: string};

export type EnvelopeKind = 'direct' | 'everyone';

/** What the relay forwards: routing data plus an opaque end-to-end body (PROTOCOL.md section 10). */
export type Envelope = {id: string; to: string; kind: EnvelopeKind; ephemeral: string; body: string};

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
	  }
	| {type: 'directory'; users: UserRecord[]}
	| {type: 'found'; id: string; users: UserRecord[]; missing: string[]}
	| {type: 'online'; users: string[]; total: number}
	| {type: 'user_joined'; user: UserRecord}
	| {type: 'user_left'; username: string}
	| ({type: 'message'} & DeliveredEnvelope)
	| {type: 'accepted'; id: string; to: string; time: number}
	| {type: 'announcement'; text: string; time: number}
	| {type: 'shutdown'; reason: string}
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
	| {type: 'who'}
	| {type: 'bye'}
	| Ping
	| Pong;

export const maxAckDeliveries = 1024;

/** Names one lookup may ask for. */
export const maxLookupNames = 100;
