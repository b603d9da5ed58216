import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {EnvelopeError} from '../../source/crypto/envelope.js';
import {encodePayload, parsePayload, type Payload, type RoomKeyPayload} from '../../source/net/e2e-payload.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const key = (fill: number, length = 32) => Buffer.alloc(length, fill).toString('base64url');
const roomKey: RoomKeyPayload = {v: 1, counter: 3, type: 'room_key', room: 'team', index: 7, head: key(1), secret: key(2)};

function code(bytes: Buffer): string | undefined {
	try {
		parsePayload(bytes);
	} catch (error) {
		expect(error).toBeInstanceOf(EnvelopeError);
		return (error as EnvelopeError).code;
	}
	return undefined;
}

describe('the room_key payload', () => {
	it('encodes with its fields in a fixed order and parses back', () => {
		expect(encodePayload(roomKey).toString()).toBe(`{"v":1,"counter":3,"type":"room_key","room":"team","index":7,"head":"${key(1)}","secret":"${key(2)}"}`);
		expect(parsePayload(encodePayload(roomKey))).toEqual(roomKey);
		expect(parsePayload(json({...roomKey, index: 0, extra: 1}))).toEqual({...roomKey, index: 0});
		expect(parsePayload(json({...roomKey, index: Number.MAX_SAFE_INTEGER}))).toMatchObject({index: Number.MAX_SAFE_INTEGER});
	});

	it.each<[string, unknown]>([
		['no room', {...roomKey, room: undefined}],
		['a room of capitals', {...roomKey, room: 'Team'}],
		['the room everyone', {...roomKey, room: 'everyone'}],
		['a room of 33 characters', {...roomKey, room: 'r'.repeat(33)}],
		['a negative index', {...roomKey, index: -1}],
		['a fractional index', {...roomKey, index: 1.5}],
		['an index as a string', {...roomKey, index: '7'}],
		['an index of 2^53', {...roomKey, index: 2 ** 53}],
		['no head', {...roomKey, head: undefined}],
		['a head of 31 bytes', {...roomKey, head: key(1, 31)}],
		['a head of 33 bytes', {...roomKey, head: key(1, 33)}],
		['a padded head', {...roomKey, head: `${key(1)}=`}],
		['a head in base64', {...roomKey, head: Buffer.alloc(32, 0xff).toString('base64')}],
		['a head with unused bits set', {...roomKey, head: `${key(0).slice(0, -1)}B`}],
		['a secret that is a number', {...roomKey, secret: 5}],
		['no secret', {...roomKey, secret: undefined}],
		['a secret of 16 bytes', {...roomKey, secret: key(2, 16)}],
	])('refuses %s', (_, value) => {
		expect(code(json(value))).toBe('payload');
		expect(() => encodePayload(value as Payload)).toThrow(TypeError);
	});
});
