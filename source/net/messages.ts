import {isErrorCode} from './error-codes.js';
import {
	asObject,
	bad,
	body,
	deliveries,
	describe,
	envelope,
	envelopeKey,
	int,
	key,
	kind,
	lookupNames,
	messageId,
	nameField,
	nullableString,
	oneTimePrekey,
	oneTimePrekeys,
	prekeyCount,
	relayText,
	relayTextOrNull,
	roster,
	signedPrekey,
	str,
	userRecord,
	userRecords,
	username,
	usernames,
	type Fields,
} from './message-fields.js';
import type {ClientMessage, ErrorMessage, RelayMessage} from './message-types.js';
import {parseRoomClientMessage, parseRoomRelayMessage, roomClientTypes, roomRelayTypes, welcomeRooms} from './room-fields.js';
import {isValidUsername} from './usernames.js';

/** Protocol messages (PROTOCOL.md section 4): parse*() makes them from wire data, each field checked (message-fields.ts). */
export * from './message-types.js';
export {asObject, maxRelayTextChars} from './message-fields.js';

export function parseClientMessage(value: unknown): ClientMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login':
			return {
				type: 'login',
				username: nameField(fields, 'username'),
				identity: key(fields, 'identity', 32),
				x25519: key(fields, 'x25519', 32),
				binding: key(fields, 'binding', 64),
				proof: key(fields, 'proof', 64),
				...(roster(fields) ? {} : {roster: false as const}),
			};
		case 'send':
			return {
				type: 'send',
				id: messageId(fields, 'id'),
				to: nameField(fields, 'to'),
				kind: kind(fields),
				...envelopeKey(fields),
				body: body(fields),
			};
		case 'prekeys': {
			const signed = fields.signed === undefined ? undefined : signedPrekey(fields.signed);
			const oneTime = fields.oneTime === undefined ? undefined : oneTimePrekeys(fields.oneTime);
			if (signed === undefined && oneTime === undefined) bad('"prekeys" needs "signed" or "oneTime"');
			return {type: 'prekeys', ...(signed === undefined ? {} : {signed}), ...(oneTime === undefined ? {} : {oneTime})};
		}
		case 'get_bundle':
			return {type: 'get_bundle', id: messageId(fields, 'id'), username: nameField(fields, 'username')};
		case 'ack':
			return {type: 'ack', deliveries: deliveries(fields)};
		case 'lookup':
			return {type: 'lookup', id: messageId(fields, 'id'), names: lookupNames(fields)};
		case 'who':
			return {type: 'who'};
		case 'bye':
			return {type: 'bye'};
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			if (typeof fields.type === 'string' && roomClientTypes.has(fields.type)) return parseRoomClientMessage(fields);
			return bad(`unknown client message type (${describe(fields.type)})`);
	}
}

export function parseRelayMessage(value: unknown): RelayMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login_request':
			return {type: 'login_request'};
		case 'welcome': {
			const more = fields.more === undefined ? 0 : int(fields, 'more');
			return {
				type: 'welcome',
				username: username(fields, 'username'),
				users: userRecords(fields),
				motd: relayTextOrNull(nullableString(fields, 'motd')),
				...(more > 0 ? {more} : {}),
				online: usernames(fields, 'online'),
				onlineCount: int(fields, 'onlineCount'),
				waiting: int(fields, 'waiting'),
				...(fields.prekeys === undefined ? {} : {prekeys: prekeyCount(asObject(fields.prekeys))}),
				...(fields.rooms === undefined ? {} : {rooms: welcomeRooms(fields.rooms)}),
			};
		}
		case 'directory':
			return {type: 'directory', users: userRecords(fields)};
		case 'found':
			return {type: 'found', id: messageId(fields, 'id'), users: userRecords(fields), missing: usernames(fields, 'missing', {reserved: true})};
		case 'online':
			return {type: 'online', users: usernames(fields, 'users'), total: int(fields, 'total')};
		case 'user_joined':
			return {type: 'user_joined', user: userRecord(fields.user)};
		case 'user_left':
			return {type: 'user_left', username: username(fields, 'username')};
		case 'message': {
			const delivery = int(fields, 'delivery');
			if (delivery < 1) bad('"delivery" must be a positive integer');
			const delivered = envelope(fields);
			if (!isValidUsername(delivered.to)) bad('"to" must be a valid username');
			return {type: 'message', delivery, from: username(fields, 'from'), time: int(fields, 'time'), ...delivered};
		}
		case 'accepted':
			return {type: 'accepted', id: messageId(fields, 'id'), to: username(fields, 'to'), time: int(fields, 'time')};
		case 'prekey_count':
			return {type: 'prekey_count', ...prekeyCount(fields)};
		case 'bundle':
			return {
				type: 'bundle',
				id: messageId(fields, 'id'),
				username: username(fields, 'username'),
				signed: signedPrekey(fields.signed),
				oneTime: fields.oneTime === null ? null : oneTimePrekey(fields.oneTime),
			};
		case 'announcement':
			return {type: 'announcement', text: relayText(str(fields, 'text')), time: int(fields, 'time')};
		case 'shutdown':
			return {type: 'shutdown', reason: relayText(str(fields, 'reason'))};
		case 'error':
			return parseErrorMessage(fields);
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			if (typeof fields.type === 'string' && roomRelayTypes.has(fields.type)) return parseRoomRelayMessage(fields);
			return bad(`unknown relay message type (${describe(fields.type)})`);
	}
}

export function parseErrorMessage(fields: Fields): ErrorMessage {
	const code = fields.code;
	if (!isErrorCode(code)) bad(`unknown error code (${describe(code)})`);
	const fatal = fields.fatal;
	if (typeof fatal !== 'boolean') bad('"fatal" must be a boolean');
	return {type: 'error', code, message: relayText(str(fields, 'message')), fatal, ref: nullableString(fields, 'ref')};
}
