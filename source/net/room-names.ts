/** The room rule (design rooms.md section 2): 1 to 32 of a-z, 0-9, _ and -, folded like usernames; `everyone` is reserved. */
const roomNamePattern = /^[a-z0-9_-]{1,32}$/;

export function isRoomName(name: string): boolean {
	return roomNamePattern.test(name) && name !== 'everyone';
}
