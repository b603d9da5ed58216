import {roomEntryFromJson, type RoomEntryJson} from '../../crypto/room-entry-codec.js';
import {RoomLogError, type RoomEntry} from '../../crypto/room-log.js';

/** The longest log fetched before an add (the relay's limit): a relay cannot make this device hold more. */
export const maxLogEntries = 100_000;

/** The log entries 0..index-1 fetched so far, before the change (of `index`) that adds this account. */
export type JoinLog = {index: number; entries: RoomEntry[]};

/** Adds a room_log answer (a page) to `log`; throws when it is out of order, or ends before the add. */
export function addLogPage(log: JoinLog, room: string, entries: readonly RoomEntryJson[]): void {
	for (const json of entries) {
		// The relay sends on past the change that adds this account (changes made since): those come in the stream.
		if (log.entries.length >= log.index) break;
		const entry = roomEntryFromJson(json);
		if (entry.room !== room || entry.index !== log.entries.length) throw new RoomLogError('bad_change', 'the log is not in order');
		log.entries.push(entry);
	}
	if (entries.length === 0 && log.entries.length < log.index) throw new RoomLogError('bad_change', 'the log ends before the change that adds you');
}
