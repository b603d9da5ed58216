import type {ClientEvents, ClientStatus, Contact, IncomingMessage, RejectionCode, RelayInfo, WelcomeInfo} from '../../client/client-events.js';
import type {RoomEvents, RoomInvite, RoomView} from '../rooms/room-api.js';

/** The key of the conversation with everyone online. Never a username: '#' is not allowed in one. */
export const everyone = '#everyone';

/**
 * The status view: what belongs to no conversation (the welcome, relay announcements, joins and
 * leaves of people you have no conversation with, /help, connection trouble). Never a username.
 */
export const statusView = '*status';

/** `everyone`, `statusView`, a room's `#name` (room-keys.ts), or the other person's username. */
export type ConversationKey = string;

export type Delivery =
	| {state: 'sending'}
	/** Waiting in the outbox while the client is offline; it goes out once it is back. */
	| {state: 'queued'}
	/** The relay committed it to its database. */
	| {state: 'stored'; time: number}
	/** The recipient's client confirmed it end to end (for everyone: every recipient did). */
	| {state: 'delivered'}
	| {state: 'failed'; code: string; message: string};

export type MessageLine = {
	kind: 'message';
	/** Arrival order across all lines of all conversations: a line's identity in the log. */
	seq: number;
	id: string;
	from: string;
	to: ConversationKey;
	text: string;
	/** The time shown: when its author wrote it (see shownTime). */
	time: number;
	/** For a received message, when the relay took it: the date is shown too when it is another day. */
	arrived?: number;
	/** A kept message (an earlier run) of another day than today: its date is shown too. */
	dated?: boolean;
	/** Set on the messages this user sent. */
	delivery?: Delivery;
	/** On this user's messages to everyone: who was sent a copy, and who confirmed it. */
	receipts?: {recipients: readonly string[]; by: readonly string[]};
	/** On this user's messages to a room: how many of the other members' clients read it, of how many. */
	roomDelivery?: {delivered: number; of: number};
};

/** join and leave: someone's presence; announcement: the relay operator's words. */
export type SystemTone = 'info' | 'error' | 'warning' | 'announcement' | 'join' | 'leave';

export type SystemLine = {kind: 'system'; seq: number; tone: SystemTone; text: string; time: number; tag?: 'held'};

export type ChatLine = MessageLine | SystemLine;

/**
 * The status line's latest news. `about`: the conversation it concerns, so that it goes when you
 * switch away or, for `offline`, when that person comes back.
 */
/** `invitation`: the room whose invitation it tells of; it goes once that is answered (declined, or joined). */
export type Notice = {tone: 'info' | 'error'; text: string; about?: ConversationKey; reason?: 'offline'; invitation?: ConversationKey};

/**
 * A passphrase wanted before logging in as `username`: 'choose' on a first start on this device,
 * 'unlock' for an account encrypted here; `error` says why it is asked again.
 */
export type PassphraseAsk = {username: string; mode: 'choose' | 'unlock'; error: string | undefined};

/** The /verify view: the safety number shared with one contact. */
export type Verification = {username: string; safetyNumber: string; keyChanged: boolean};

export type ChatState = {
	status: ClientStatus;
	relay: RelayInfo | undefined;
	me: string | undefined;
	/** My contacts (the welcome, lookups, presence) and those I talk with, keyed by name. A Map, because "__proto__" is a valid username. */
	contacts: ReadonlyMap<string, Contact>;
	/** The who-is-online view the relay last sent: a few names (not me), and how many are online in all. */
	who: {names: readonly string[]; total: number};
	selected: ConversationKey | undefined;
	/** Every conversation's lines, oldest first, the status view's included. */
	conversations: ReadonlyMap<ConversationKey, readonly ChatLine[]>;
	unread: ReadonlyMap<ConversationKey, number>;
	/** Id → conversation of my messages still waiting for the relay or for receipts. */
	tracking: ReadonlyMap<string, ConversationKey>;
	notice: Notice | undefined;
	/** Messages that arrived in a conversation not on screen: the terminal bell rings when it grows. */
	bells: number;
	/** The relay is unknown and waits for the user to trust it. */
	verify: RelayInfo | undefined;
	/** The relay showed a key that differs from the pinned one. */
	keyChanged: {relay: RelayInfo; pinnedFingerprint: string} | undefined;
	verification: Verification | undefined;
	/** `passphrase`: the name is known and this device asks for its passphrase before logging in. */
	login: {requested: boolean; pending: string | undefined; error: string | undefined; passphrase?: PassphraseAsk};
	/** The connection dropped (or never came up) and the client is trying again: the attempt due next, and when. */
	reconnect: {attempt: number; at: number} | undefined;
	closed: {code: string; message: string} | undefined;
	counter: number;
	/** Lines kept per conversation; older ones scroll out of memory. */
	maxLines: number;
	/** Lines and characters of text kept in all conversations together (see addLine). */
	maxTotalLines: number;
	maxTotalChars: number;
	/** What all conversations hold now. */
	held: {lines: number; chars: number};
	/**
	 * The conversations with messages kept on this device when this run logged in, the most recent
	 * first, each with its newest kept history seq then: what is older is read from the database page
	 * by page as the log scrolls (never held here), what came after is in `conversations`.
	 */
	kept: ReadonlyMap<ConversationKey, number>;
	/** Whether `kept` was read (once per run, at the first welcome). */
	keptLoaded: boolean;
	/** Grows when a kept message of an earlier run may have changed (a receipt for it came): the log reads it again. */
	keptRevision: number;
	/** The rooms the client knows (member, stalled, left, removed), by conversation key (`#name`). */
	rooms: ReadonlyMap<ConversationKey, RoomView>;
	/** Invitations not answered yet, by the room's conversation key. */
	invites: ReadonlyMap<ConversationKey, {from: string; time: number}>;
};

export type ChatAction =
	| {type: 'sync'; status: ClientStatus; relay: RelayInfo | undefined; username: string | undefined}
	| {type: 'status'; status: ClientStatus}
	| {type: 'relay-unknown'; relay: RelayInfo}
	| {type: 'relay-changed'; relay: RelayInfo; pinnedFingerprint: string}
	| {type: 'relay-trusted'; relay: RelayInfo}
	| {type: 'trust-decided'; trust: boolean}
	| {type: 'login-request'}
	| {type: 'login-sent'; username: string}
	| {type: 'passphrase-needed'; ask: PassphraseAsk}
	/** Esc at the passphrase prompt: back to the name prompt. */
	| {type: 'passphrase-cancel'}
	| {type: 'login-error'; error: {code: string; message: string}}
	| {type: 'welcome'; welcome: WelcomeInfo; time: number}
	| {type: 'found'; found: ClientEvents['found'][0]; time: number}
	| {type: 'lookup-failed'; failure: ClientEvents['lookup-failed'][0]; time: number}
	| {type: 'online'; online: ClientEvents['online'][0]; time: number}
	| {type: 'user-joined'; contact: Contact; time: number}
	| {type: 'user-left'; username: string; time: number}
	| {type: 'contact-updated'; contact: Contact; time: number}
	| {type: 'message'; message: IncomingMessage}
	| {type: 'accepted'; ack: {id: string; time: number}}
	| {type: 'delivered'; receipt: {id: string; by: string}}
	| {type: 'gap'; gap: {from: string; missing: number}; time: number}
	| {type: 'rejected'; rejection: {from: string; code: RejectionCode; reason: string}; time: number}
	| {type: 'held'; held: {from: string; count: number}; time: number}
	| {type: 'session-reset'; reset: {with: string; by: 'me' | 'them'; resent: number}; time: number}
	| {type: 'relay-error'; error: {code: string; message: string; ref: string | null}; time: number}
	| {type: 'local-error'; error: {message: string}; time: number}
	| {type: 'announcement'; announcement: {text: string; time: number}}
	| {type: 'reconnecting'; reconnect: {attempt: number; at: number; code: string; message: string}; time: number}
	| {type: 'unsent'; unsent: {id: string; to: string; reason: string}; time: number}
	| {type: 'closed'; reason: {code: string; message: string}; time: number}
	/** I sent `text` as message `id` to one person, or to everyone (`recipients` got a copy). */
	| {type: 'outgoing'; id: string; to: ConversationKey; recipients: string[]; text: string; time: number}
	| {type: 'select-next'}
	| {type: 'select-previous'}
	| {type: 'select'; key: ConversationKey}
	/** The next conversation with unread messages, after the selected one. */
	| {type: 'select-unread'}
	| {type: 'verify-open'; username: string; safetyNumber: string}
	| {type: 'verify-close'}
	/** The conversations with kept history at login, the most recent first, each with its newest kept seq. */
	| {type: 'kept'; kept: ReadonlyArray<[ConversationKey, number]>}
	/** Conversation `key`'s history was deleted from this device: `count` messages. */
	| {type: 'forgotten'; key: ConversationKey; count: number; time: number}
	/** The client's rooms as it last said (and, at login, its invitations). */
	| {type: 'rooms'; rooms: readonly RoomView[]; invites?: readonly RoomInvite[]; time: number}
	| {type: 'room-message'; message: RoomEvents['room-message'][0]}
	| {type: 'room-change'; change: RoomEvents['room-change'][0]}
	| {type: 'room-accepted'; accepted: RoomEvents['room-accepted'][0]}
	| {type: 'room-delivered'; delivered: RoomEvents['room-delivered'][0]}
	| {type: 'room-invite'; invite: RoomEvents['room-invite'][0]}
	| {type: 'room-declined'; declined: RoomEvents['room-declined'][0]; time: number}
	| {type: 'room-error'; error: RoomEvents['room-error'][0]; time: number}
	| {type: 'room-rejected'; rejection: RoomEvents['room-rejected'][0]; time: number}
	/** I declined the invitation to room `room` (bare name). */
	| {type: 'invite-answered'; room: string}
	/** A line of our own (command output, a refusal); in the selected conversation unless one is named. */
	| {type: 'local'; tone: SystemTone; text: string; time: number; conversation?: ConversationKey};
