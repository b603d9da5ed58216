import type {RelayMessage, UserRecord} from '../net/messages.js';

/** One login or logout, in the order the relay saw them. A user's events alternate join, leave. */
export type PresenceEvent =
	| {username: string; joined: true; user: UserRecord; /** first login ever: nobody online knew this user */ registered: boolean}
	| {username: string; joined: false};

/** The presence messages that tell one user's change, tagged with whom they are about. */
export type PresenceChange = {username: string; messages: RelayMessage[]};

/**
 * What an observer that saw everything before `events[from]` must be told to see everything up
 * to the end: per user, only the difference between the first and last state. A join followed by
 * a leave (or a leave followed by a join) cancels out. A user who registered in this stretch was
 * unknown to the observer, so it always hears the record, followed by a leave if the user is gone.
 */
export function presenceChanges(events: readonly PresenceEvent[], from = 0): PresenceChange[] {
	const first = new Map<string, PresenceEvent>();
	const last = new Map<string, PresenceEvent>();
	for (let index = from; index < events.length; index++) {
		const event = events[index]!;
		if (!first.has(event.username)) first.set(event.username, event);
		last.set(event.username, event);
	}
	const changes: PresenceChange[] = [];
	for (const [username, start] of first) {
		const end = last.get(username)!;
		const left: RelayMessage = {type: 'user_left', username};
		if (start.joined && start.registered) {
			const user = end.joined ? end.user : start.user;
			changes.push({username, messages: end.joined ? [{type: 'user_joined', user}] : [{type: 'user_joined', user}, left]});
		} else if (start.joined === end.joined) {
			// the observer believed the opposite of the first event; the last one changed that
			changes.push({username, messages: [end.joined ? {type: 'user_joined', user: end.user} : left]});
		}
	}
	return changes;
}
