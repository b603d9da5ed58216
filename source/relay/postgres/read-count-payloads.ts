import {messageIdPattern as idPattern} from '../../net/message-fields.js';
import type {RoomReadCount} from '../cluster.js';
import {checkName, isName} from './cluster-names.js';

/** One count on the wire: [room, seq, id, sender, delivered, of], as short as JSON allows. */
export type ReadCountTuple = [string, number, string, string, number, number];

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** A count as a tuple; throws on anything that is not one (the relay made it: a bug). */
export function readCountTuple(count: RoomReadCount): ReadCountTuple {
	const {room, seq, id, sender, delivered, of} = count;
	if (!isCount(seq) || seq < 1 || !idPattern.test(id) || !isCount(delivered) || !isCount(of)) throw new TypeError(`not a read count: ${JSON.stringify({seq, delivered, of})}`);
	return [checkName(room), seq, id, checkName(sender), delivered, of];
}

/** The counts of a `read_counts` notification, or why they are not. */
export function parseReadCounts(value: unknown): {ok: true; counts: RoomReadCount[]} | {ok: false; reason: string} {
	if (!Array.isArray(value) || value.length === 0) return {ok: false, reason: 'read_counts: counts is not a list'};
	const counts: RoomReadCount[] = [];
	for (const tuple of value as unknown[]) {
		if (!Array.isArray(tuple) || tuple.length !== 6) return {ok: false, reason: 'read_counts: a count is not six fields'};
		const [room, seq, id, sender, delivered, of] = tuple as unknown[];
		if (!isName(room) || !isName(sender)) return {ok: false, reason: 'read_counts: room or sender is not a name'};
		if (!isCount(seq) || seq < 1 || typeof id !== 'string' || !idPattern.test(id) || !isCount(delivered) || !isCount(of)) {
			return {ok: false, reason: 'read_counts: seq, id or a count is not one'};
		}
		counts.push({room, seq, id, sender, delivered, of});
	}
	return {ok: true, counts};
}
