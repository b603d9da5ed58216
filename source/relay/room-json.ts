/**
 * Room items as JSON text, made once per item and sent as is to every member (sink.sendJson, which
 * counts one byte per character: everything here is ASCII).
 */

/** JSON.stringify with every character outside ASCII escaped (\uXXXX): the same value, ASCII text. */
export function asciiJson(value: unknown): string {
	return JSON.stringify(value).replace(/[\u007f-\uffff]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A message item, written out by hand like relay-json.ts: every field was checked by
 * parseClientMessage (a room name, a message id, B64U, a token's alphabet, integers) or is a
 * logged-in username, so nothing needs escaping.
 */
export function roomMessageJson(item: {room: string; seq: number; time: number; from: string; id: string; epoch: string; n: number; body: string; signature: string}): string {
	return `{"type":"room_message","room":"${item.room}","seq":${item.seq},"time":${item.time},"from":"${item.from}","id":"${item.id}","epoch":"${item.epoch}","n":${item.n},"body":"${item.body}","signature":"${item.signature}"}`;
}

/** A change item without a key; `entry` is the entry's ASCII JSON. */
export function roomChangeJson(room: string, seq: number, time: number, entry: string): string {
	return `{"type":"room_change","room":"${room}","seq":${seq},"time":${time},"entry":${entry}}`;
}

/** A change item with one member's key (ASCII JSON) added. */
export function withKey(item: string, key: string | null | undefined): string {
	return key === null || key === undefined ? item : `${item.slice(0, -1)},"key":${key}}`;
}

export function roomLogJson(room: string, entries: readonly string[]): string {
	return `{"type":"room_log","room":"${room}","entries":[${entries.join(',')}]}`;
}
