import type {RoomNoticeKind, RoomReadCount} from '../cluster.js';
import {checkConnectionId, checkName, connectionIdPattern, isName} from './cluster-names.js';
import {parseReadCounts, readCountTuple} from './read-count-payloads.js';

/** NOTIFY refuses a payload of 8000 bytes or more (PostgreSQL's default build). */
export const maxPayloadBytes = 7999;

/**
 * A wake-up says "look now", never what to show: the store is the truth, and a relay that gets
 * one reads what it names. Names only, never message contents.
 * - queued: envelopes were committed for these recipients (sent to their relay's channel).
 * - online, offline: these users' sessions began or ended (sent to the service channel; a reaped
 *   relay's users are announced offline by the relay that reaped it).
 * - rooms: items were committed in these rooms (service channel).
 * - replaced: this username's session `connection` was ended by a login elsewhere (sent to the
 *   replaced session's relay).
 * - notice: a room notice for the users `names` (sent to their relays): `user` was invited to
 *   `room`, accepted an invitation to it, or declined one (cluster.ts RoomNotice).
 * - read_counts: how many members have read these room messages (sent to their senders' relays):
 *   numbers and ids, no contents (read-count-payloads.ts).
 */
export type NamesWakeup = {type: 'queued' | 'online' | 'offline' | 'rooms'; names: string[]};
export type ReplacedWakeup = {type: 'replaced'; username: string; connection: string};
export type NoticeWakeup = {type: 'notice'; kind: RoomNoticeKind; room: string; user: string; names: string[]};
export type ReadCountsWakeup = {type: 'read_counts'; counts: RoomReadCount[]};
export type Wakeup = NamesWakeup | ReplacedWakeup | NoticeWakeup | ReadCountsWakeup;

const namesTypes: ReadonlySet<string> = new Set(['queued', 'online', 'offline', 'rooms']);
const noticeKinds: ReadonlySet<string> = new Set<RoomNoticeKind>(['invited', 'accepted', 'declined']);

/**
 * The notification payloads that carry `wakeup`, each under NOTIFY's limit: a long list of names
 * is split over several (duplicates dropped); an empty list needs none.
 */
export function wakeupPayloads(wakeup: Wakeup): string[] {
	if (wakeup.type === 'replaced') {
		return [JSON.stringify({type: 'replaced', username: checkName(wakeup.username), connection: checkConnectionId(wakeup.connection)})];
	}
	if (wakeup.type === 'read_counts') return splitPayloads({type: 'read_counts'}, 'counts', wakeup.counts.map(readCountTuple));
	if (wakeup.type !== 'notice' && !namesTypes.has(wakeup.type)) throw new TypeError(`no wake-up of type ${JSON.stringify(String(wakeup.type))}`);
	if (!Array.isArray(wakeup.names)) throw new TypeError(`a ${wakeup.type} wake-up carries a list of names`);
	const names = [...new Set(wakeup.names.map(checkName))];
	const head = wakeup.type === 'notice' ? noticeHead(wakeup) : {type: wakeup.type};
	return splitPayloads(head, 'names', names);
}

/**
 * JSON payloads of `head` with `key` holding `items`, split so that each is under NOTIFY's limit
 * (none for no items). Items must encode to ASCII (names, ids and numbers, checked by the caller),
 * so a character of their JSON is a byte.
 */
export function splitPayloads(head: object, key: string, items: readonly unknown[]): string[] {
	const payload = (chunk: unknown[]) => JSON.stringify({...head, [key]: chunk});
	const overhead = payload([]).length;
	const payloads: string[] = [];
	let chunk: unknown[] = [];
	let bytes = overhead;
	for (const item of items) {
		const size = JSON.stringify(item).length;
		// All but the first item of a payload follow a comma.
		if (chunk.length > 0 && bytes + 1 + size > maxPayloadBytes) {
			payloads.push(payload(chunk));
			chunk = [];
			bytes = overhead;
		}
		if (overhead + size > maxPayloadBytes) throw new RangeError(`one ${key} item is too long for a notification`);
		bytes += (chunk.length > 0 ? 1 : 0) + size;
		chunk.push(item);
	}
	if (chunk.length > 0) payloads.push(payload(chunk));
	return payloads;
}

function noticeHead(wakeup: NoticeWakeup): Omit<NoticeWakeup, 'names'> {
	if (!noticeKinds.has(wakeup.kind)) throw new TypeError(`no room notice of kind ${JSON.stringify(String(wakeup.kind))}`);
	return {type: 'notice', kind: wakeup.kind, room: checkName(wakeup.room), user: checkName(wakeup.user)};
}

export type ParsedWakeup = {ok: true; wakeup: Wakeup} | {ok: false; reason: string};

/**
 * Reads a payload another relay (or anyone who can NOTIFY on this database) sent. Everything is
 * checked; what does not fit is answered with the reason, for the log, and is never thrown.
 * Fields it does not know are ignored, so a newer relay may add some.
 */
export function parseWakeup(payload: string): ParsedWakeup {
	if (Buffer.byteLength(payload) > maxPayloadBytes) return {ok: false, reason: 'longer than NOTIFY allows'};
	let value: unknown;
	try {
		value = JSON.parse(payload);
	} catch {
		return {ok: false, reason: 'not JSON'};
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return {ok: false, reason: 'not a JSON object'};
	const {type} = value as {type?: unknown};
	if (type === 'replaced') {
		const {username, connection} = value as {username?: unknown; connection?: unknown};
		if (!isName(username)) return {ok: false, reason: 'replaced: username is not a name'};
		if (typeof connection !== 'string' || !connectionIdPattern.test(connection)) return {ok: false, reason: 'replaced: connection is not a connection id'};
		return {ok: true, wakeup: {type, username, connection}};
	}
	if (type === 'read_counts') {
		const counts = parseReadCounts((value as {counts?: unknown}).counts);
		return counts.ok ? {ok: true, wakeup: {type, counts: counts.counts}} : counts;
	}
	if (typeof type !== 'string' || (type !== 'notice' && !namesTypes.has(type))) return {ok: false, reason: 'unknown type'};
	const {names} = value as {names?: unknown};
	if (!Array.isArray(names) || names.length === 0) return {ok: false, reason: `${type}: names is not a list of names`};
	if (!names.every(isName)) return {ok: false, reason: `${type}: a name is not a name`};
	if (type !== 'notice') return {ok: true, wakeup: {type: type as NamesWakeup['type'], names}};
	const {kind, room, user} = value as {kind?: unknown; room?: unknown; user?: unknown};
	if (typeof kind !== 'string' || !noticeKinds.has(kind)) return {ok: false, reason: 'notice: unknown kind'};
	if (!isName(room) || !isName(user)) return {ok: false, reason: 'notice: room or user is not a name'};
	return {ok: true, wakeup: {type, kind: kind as RoomNoticeKind, room, user, names}};
}
