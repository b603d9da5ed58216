import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {EnvelopeError} from '../../source/crypto/envelope.js';
import {encodePayload, maxPayloadBytes, parsePayload, payloadCounter, type Payload} from '../../source/net/e2e-payload.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const text = {v: 1, counter: 7, type: 'text', text: 'hello bob', sent: 1_767_225_601_000};
const receipt = {v: 1, counter: 8, type: 'receipt', ids: ['abc']};

function code(bytes: Buffer): string | undefined {
	try {
		parsePayload(bytes);
	} catch (error) {
		expect(error).toBeInstanceOf(EnvelopeError);
		return (error as EnvelopeError).code;
	}
	return undefined;
}

describe('end-to-end payloads (PROTOCOL.md section 10)', () => {
	it('encodes the spec examples byte for byte', () => {
		expect(encodePayload(text as Payload).toString()).toBe('{"v":1,"counter":7,"type":"text","text":"hello bob","sent":1767225601000}');
		expect(encodePayload({v: 1, counter: 8, type: 'receipt', ids: ['a', 'b']}).toString()).toBe('{"v":1,"counter":8,"type":"receipt","ids":["a","b"]}');
	});

	it.each<[string, Payload]>([
		['text', text as Payload],
		['empty text', {v: 1, counter: 0, type: 'text', text: '', sent: 0}],
		['8,192 bytes of text', {v: 1, counter: 1, type: 'text', text: 'é'.repeat(4096), sent: -1}],
		['control characters and quotes', {v: 1, counter: 2, type: 'text', text: '\u0000\u001b[31m"\\\n', sent: 5}],
		['emoji', {v: 1, counter: 3, type: 'text', text: '🙂'.repeat(2048), sent: 5}],
		['a receipt', receipt as Payload],
		['1,024 ids of 64 characters', {v: 1, counter: Number.MAX_SAFE_INTEGER, type: 'receipt', ids: Array.from({length: 1024}, (_, index) => String(index).padStart(64, '_'))}],
	])('round-trips %s', (_, payload) => {
		expect(parsePayload(encodePayload(payload))).toEqual(payload);
	});

	it('ignores unknown fields and returns only the known ones', () => {
		expect(parsePayload(json({...text, extra: {nested: true}, __proto__x: 1}))).toEqual(text);
		expect(parsePayload(json({...receipt, colour: 'red'}))).toEqual(receipt);
		const parsed = parsePayload(Buffer.from('{"v":1,"counter":0,"type":"receipt","ids":["a"],"__proto__":{"polluted":true}}'));
		expect(Object.keys(parsed)).toEqual(['v', 'counter', 'type', 'ids']);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it.each<[string, Buffer]>([
		['not JSON', Buffer.from('{"v":1,')],
		['invalid UTF-8', Buffer.concat([Buffer.from('{"v":1,"counter":0,"type":"text","text":"'), Buffer.from([0xff]), Buffer.from('","sent":0}')])],
		['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(text)])],
		['an array', json([text])],
		['null', json(null)],
		['a string', json('text')],
		['no v', json({...text, v: undefined})],
		['v 2', json({...text, v: 2})],
		['v "1"', json({...text, v: '1'})],
		['no counter', json({...text, counter: undefined})],
		['a negative counter', json({...text, counter: -1})],
		['a fractional counter', json({...text, counter: 1.5})],
		['a counter as a string', json({...text, counter: '7'})],
		['a counter of 2^53', Buffer.from('{"v":1,"counter":9007199254740992,"type":"text","text":"x","sent":0}')],
		['a counter of 1e400', Buffer.from('{"v":1,"counter":1e400,"type":"text","text":"x","sent":0}')],
		['no type', json({...text, type: undefined})],
		['an unknown type', json({...text, type: 'typing'})],
		['a type that is not a string', json({...text, type: 1})],
		['text that is a number', json({...text, text: 42})],
		['no text', json({...text, text: undefined})],
		['8,193 bytes of text', json({...text, text: 'a'.repeat(8193)})],
		['8,194 bytes of text in 2-byte characters', json({...text, text: 'é'.repeat(4097)})],
		['a lone surrogate', Buffer.from('{"v":1,"counter":0,"type":"text","text":"a\\ud800b","sent":0}')],
		['no sent', json({...text, sent: undefined})],
		['a fractional sent', json({...text, sent: 1.5})],
		['sent as a string', json({...text, sent: '1767225601000'})],
		['ids that are not an array', json({...receipt, ids: 'abc'})],
		['no ids', json({...receipt, ids: undefined})],
		['no ids at all', json({...receipt, ids: []})],
		['1,025 ids', json({...receipt, ids: Array.from({length: 1025}, () => 'a')})],
		['an empty id', json({...receipt, ids: ['a', '']})],
		['a 65-character id', json({...receipt, ids: ['a'.repeat(65)]})],
		['an id with "+"', json({...receipt, ids: ['a+b']})],
		['an id with padding', json({...receipt, ids: ['abc=']})],
		['an id that is a number', json({...receipt, ids: [1]})],
		['more bytes than any valid payload', Buffer.concat([json(text), Buffer.alloc(maxPayloadBytes, 0x20)])],
	])('refuses %s with an EnvelopeError', (_, bytes) => {
		expect(code(bytes)).toBe('payload');
	});

	it('accepts whitespace around valid JSON', () => {
		expect(parsePayload(Buffer.from(` ${JSON.stringify(text)}\n`))).toEqual(text);
	});

	it('refuses to encode an invalid payload', () => {
		expect(() => encodePayload({...text, text: 'a'.repeat(8193)} as Payload)).toThrow(TypeError);
		expect(() => encodePayload({...receipt, ids: []} as unknown as Payload)).toThrow(TypeError);
		expect(() => encodePayload({...text, counter: -1} as Payload)).toThrow(TypeError);
		expect(() => encodePayload({...text, type: 'other'} as unknown as Payload)).toThrow(TypeError);
	});

	it.each<[string, Buffer, number | undefined]>([
		['a valid text', json(text), 7],
		['an unknown type', json({...text, type: 'typing'}), 7],
		['no type', json({v: 1, counter: 0}), 0],
		['8,193 bytes of text', json({...text, text: 'a'.repeat(8193)}), 7],
		['a receipt without ids', json({...receipt, ids: []}), 8],
		['the largest counter', json({...text, counter: Number.MAX_SAFE_INTEGER}), Number.MAX_SAFE_INTEGER],
		['not JSON', Buffer.from('{"v":1,"counter":7,'), undefined],
		['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(text)]), undefined],
		['an array', json([text]), undefined],
		['v 2', json({...text, v: 2}), undefined],
		['a negative counter', json({...text, counter: -1}), undefined],
		['a counter as a string', json({...text, counter: '7'}), undefined],
		['a counter of 2^53', Buffer.from('{"v":1,"counter":9007199254740992}'), undefined],
		['more bytes than any valid payload', Buffer.concat([json(text), Buffer.alloc(maxPayloadBytes, 0x20)]), undefined],
	])('reads the counter of %s', (_, bytes, counter) => {
		expect(payloadCounter(bytes)).toBe(counter);
	});
});
