import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {parseRelayMessage} from '../../source/net/messages.js';
import {reservedUsernames} from '../../source/net/usernames.js';
import {acceptedJson, deliveredJson} from '../../source/relay/relay-json.js';

const b64u = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const name = fc.stringMatching(/^[a-z0-9_-]{1,32}$/).filter(candidate => !reservedUsernames.has(candidate));
const envelope = fc.record({
	delivery: fc.integer({min: 1, max: Number.MAX_SAFE_INTEGER}),
	id,
	to: name,
	kind: fc.constantFrom('direct' as const, 'everyone' as const),
	ephemeral: b64u,
	// what parseClientMessage lets through: a Fernet token's alphabet
	body: fc.stringMatching(/^[A-Za-z0-9_=-]{1,300}$/),
	from: name,
	time: fc.integer({min: 0, max: Number.MAX_SAFE_INTEGER}),
});

describe('the relay\'s hand-written JSON', () => {
	it('is byte for byte what JSON.stringify makes of the message objects', () => {
		fc.assert(
			fc.property(envelope, numbered => {
				const {delivery, id, to, kind, ephemeral, body, from, time} = numbered;
				expect(deliveredJson(numbered)).toBe(JSON.stringify({type: 'message', delivery, id, to, kind, ephemeral, body, from, time}));
				expect(acceptedJson(numbered)).toBe(JSON.stringify({type: 'accepted', id, to, time}));
				expect(Buffer.byteLength(deliveredJson(numbered))).toBe(deliveredJson(numbered).length);
				expect(parseRelayMessage(JSON.parse(acceptedJson(numbered)))).toEqual({type: 'accepted', id, to, time});
			}),
			{numRuns: 2000},
		);
	});

	it('a ratchet envelope is written with its `ratchet` field in place of `ephemeral`', () => {
		const ratchet = fc.constantFrom(74, 78, 82).chain(bytes => fc.uint8Array({minLength: bytes, maxLength: bytes})).map(bytes => Buffer.from(bytes).toString('base64url'));
		fc.assert(
			fc.property(envelope, ratchet, ({ephemeral: _ephemeral, ...numbered}, header) => {
				const {delivery, id, to, kind, body, from, time} = numbered;
				const json = deliveredJson({...numbered, ratchet: header});
				const object = {type: 'message', delivery, id, to, kind, ratchet: header, body, from, time};
				expect(json).toBe(JSON.stringify(object));
				expect(parseRelayMessage(JSON.parse(json))).toEqual(object);
			}),
			{numRuns: 500},
		);
	});
});
