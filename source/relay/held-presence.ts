import type {RelayMessage} from '../net/messages.js';

/**
 * Joins and leaves held while the list of contacts streams out, the latest per user (a join, a
 * leave, or a join and then a leave for a user the list may not hold), oldest user first: at
 * most two per contact (per user on a community relay) however long the list takes.
 */
export class HeldPresence {
	private readonly held = new Map<string, RelayMessage[]>();

	/** Holds a join or a leave; false for any other message, which is not held. */
	hold(message: RelayMessage): boolean {
		const username = message.type === 'user_joined' ? message.user.username : message.type === 'user_left' ? message.username : undefined;
		if (username === undefined) return false;
		const earlier = this.held.get(username)?.[0];
		this.held.delete(username);
		this.held.set(username, message.type === 'user_left' && earlier?.type === 'user_joined' ? [earlier, message] : [message]);
		return true;
	}

	/** What was held, oldest user first. */
	*messages(): Generator<RelayMessage> {
		for (const messages of this.held.values()) yield* messages;
	}
}
