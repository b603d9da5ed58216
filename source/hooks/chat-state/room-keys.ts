import {isValidRoomName} from '../../crypto/room-log.js';
import {isValidUsername} from '../../net/usernames.js';
import {everyone, type ConversationKey} from './types.js';

/** A room's name: 1 to 32 of a-z, 0-9, _ and -; `everyone` is reserved (design rooms.md section 2). */
export const isRoomName: (name: string) => boolean = isValidRoomName;

/** The conversation key of room `name`: `#name` (never a username, never `#everyone`). */
export function roomKey(name: string): ConversationKey {
	return `#${name}`;
}

/** The room a conversation key names, or undefined when it is not a room's. */
export function roomOf(key: ConversationKey | undefined): string | undefined {
	if (key === undefined || !key.startsWith('#')) return undefined;
	const name = key.slice(1);
	return isRoomName(name) ? name : undefined;
}

export function isRoomKey(key: ConversationKey | undefined): boolean {
	return roomOf(key) !== undefined;
}

/** A conversation's name as shown: `#everyone`, `#room`, a username, or `?` for anything else. */
export function conversationName(key: ConversationKey): string {
	if (key === everyone || isRoomKey(key)) return key;
	return isValidUsername(key) ? key : '?';
}
