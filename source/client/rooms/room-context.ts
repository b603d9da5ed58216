import type {IdentityKeys} from '../../crypto/identity.js';
import type {ClientMessage} from '../../net/messages.js';
import type {Emit} from '../client-events.js';
import type {ContactStore} from '../contact-store.js';
import type {EndToEnd} from '../end-to-end.js';
import type {History} from '../history.js';
import type {SessionChange} from '../ratchet/ratchet-sessions.js';
import type {SqliteDatabase} from '../store/account-database.js';
import type {RoomKeeper} from './room-keeper.js';
import type {RoomSendingStore} from './room-sending-store.js';

/** What an account gives its rooms: the database (keeper and sending store), its contacts (one transaction with them) and the history. */
export type RoomAccountParts = {database: SqliteDatabase; keys: IdentityKeys; contacts: ContactStore; history?: History};

/** The connection, the session's end-of-turn flush and its error reporting, as the room parts see them. */
export type RoomHost = {
	emit: Emit;
	/** Whether there is a connection to send on. */
	online(): boolean;
	/** Sends on the connection; false (nothing sent) while there is none. */
	transmit(message: ClientMessage): boolean;
	/** Runs RoomSession.flush (and the rest of the session's) at the end of the turn. */
	schedule(): void;
	/** This device's storage failed: said once, never thrown into the connection. */
	localError(what: string, error: unknown): void;
	/** Fetches `name`'s prekey bundle: a session is needed to seal a room key for them. */
	needSession(name: string): void;
	/** Looks `name` up on the relay (an invitee this device has no pin for). */
	lookup(name: string): void;
	/** What opening a room key did to its author's sessions (SessionStarter.changed / unreadable). */
	sessionChanged(from: string, change: SessionChange | undefined, unreadable: boolean): void;
	/** Ends the connection so that the relay sends again what was not acknowledged. */
	redeliver(): void;
};

/** Everything the parts of a RoomSession share. */
export type RoomContext = {
	me: string;
	keys: IdentityKeys;
	keeper: RoomKeeper;
	sending: RoomSendingStore;
	e2e: EndToEnd;
	history: History | undefined;
	/** One transaction over the contacts and every other table (ContactStore.atomically): nests. */
	atomically<T>(work: () => T): T;
	host: RoomHost;
	clock: () => number;
	/** The rooms' list or a room's state changed: a 'rooms' event at the end of the turn. */
	roomsChanged(): void;
	/** Rooms whose log this device could not follow (a change that did not apply), with why: shown as stalled. */
	notFollowing: Map<string, string>;
	/** A warning line about `room` (a room-error event with no message id). */
	warn(room: string, code: string, message: string): void;
};
