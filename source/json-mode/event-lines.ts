import type {ChatConnection, ClientEvents} from '../client/client-events.js';

/** What a script hears of the client: {"type":"event","event":NAME, ...its fields}. */
export type EventLine = {type: 'event'; event: string} & Record<string, unknown>;

type Forwarded = {[E in keyof ClientEvents]?: (...args: ClientEvents[E]) => Record<string, unknown>};

const fields = <T extends object>(value: T) => ({...value});

/**
 * The events a script needs, with their fields as the client gives them. Left out: 'status' (the
 * events say it), the relay and login questions (the process answers them: --trust, --user),
 * 'carried-over' (an upgrade's bookkeeping), 'online' asked by a who command (that is the who
 * answer), and 'accepted' (CommandRunner writes it for the messages this process sent, not for
 * the client's own receipts).
 */
const forwarded: Forwarded = {
	welcome: fields,
	message: fields,
	delivered: fields,
	gap: fields,
	rejected: fields,
	held: fields,
	'session-reset': fields,
	unsent: fields,
	'user-joined': fields,
	'user-left': username => ({username}),
	'contact-updated': fields,
	found: fields,
	'lookup-failed': fields,
	online: ({names, total}) => ({names, total}),
	announcement: fields,
	'relay-error': fields,
	'local-error': fields,
	reconnecting: fields,
	closed: fields,
	// Every room event: `room` is the bare name; 'room-accepted' is always about a message of this account.
	'room-message': fields,
	'room-change': fields,
	'room-accepted': fields,
	'room-delivered': fields,
	'room-invite': fields,
	'room-declined': fields,
	'room-error': fields,
	'room-rejected': fields,
	rooms: rooms => ({rooms}),
};

/** Writes an event line for each forwarded event of `connection`; returns the unsubscribe. */
export function forwardEvents(connection: ChatConnection, write: (line: EventLine) => void): () => void {
	const listeners = Object.entries(forwarded).map(([event, toFields]) => {
		const listener = (...args: unknown[]) => {
			if (event === 'online' && (args[0] as {asked: boolean}).asked) return;
			write({type: 'event', event, ...(toFields as (...args: unknown[]) => Record<string, unknown>)(...args)});
		};
		connection.on(event as keyof ClientEvents, listener as never);
		return () => connection.off(event as keyof ClientEvents, listener as never);
	});
	return () => {
		for (const off of listeners) off();
	};
}
