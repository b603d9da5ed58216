import {describe, expect, test} from 'vitest';
import {parseCommand} from '../../source/json-mode/commands.js';

describe('parseCommand: every command, checked at the edge', () => {
	test.each([
		['{"type":"send","to":"Bob","text":"hi"}', {type: 'send', ref: null, to: 'bob', text: 'hi'}],
		['{"type":"send","to":"#everyone","text":"hi all","ref":7}', {type: 'send', ref: 7, to: '#everyone', text: 'hi all'}],
		['{"type":"history","with":"bob"}', {type: 'history', ref: null, with: 'bob', limit: 50}],
		['{"type":"history","with":"#everyone","before":12,"limit":3,"ref":"h"}', {type: 'history', ref: 'h', with: '#everyone', before: 12, limit: 3}],
		['{"type":"search","words":"coffee plan","limit":500}', {type: 'search', ref: null, words: 'coffee plan', limit: 500}],
		['{"type":"forget","with":"BOB"}', {type: 'forget', ref: null, with: 'bob'}],
		['{"type":"lookup","names":["Carol","dave"]}', {type: 'lookup', ref: null, names: ['carol', 'dave']}],
		['{"type":"who","ref":null}', {type: 'who', ref: null}],
		['{"type":"trust","user":"bob"}', {type: 'trust', ref: null, user: 'bob'}],
		['{"type":"quit","extra":"ignored"}', {type: 'quit', ref: null}],
		['  {"type":"who"}  ', {type: 'who', ref: null}],
	])('%s', (line, command) => {
		expect(parseCommand(line)).toEqual({ok: true, command});
	});

	test.each([
		['', 'invalid_json', null],
		['not json', 'invalid_json', null],
		['{"type":"send"', 'invalid_json', null],
		['\u0000\u00ff\ufffd\u001b[2J', 'invalid_json', null],
		['[1,2]', 'invalid_command', null],
		['"send"', 'invalid_command', null],
		['null', 'invalid_command', null],
		['42', 'invalid_command', null],
		['{}', 'invalid_command', null],
		['{"type":5}', 'invalid_command', null],
		['{"type":"dance","ref":"d"}', 'unknown_command', 'd'],
		['{"type":"__proto__"}', 'unknown_command', null],
		['{"type":"constructor"}', 'unknown_command', null],
		['{"type":"send","text":"hi","ref":1}', 'missing_field', 1],
		['{"type":"send","to":"bob"}', 'missing_field', null],
		['{"type":"send","to":"bob","text":""}', 'invalid_field', null],
		['{"type":"send","to":"bob","text":42}', 'invalid_field', null],
		['{"type":"send","to":"bo b","text":"hi"}', 'invalid_field', null],
		['{"type":"send","to":"system","text":"hi"}', 'invalid_field', null],
		['{"type":"send","to":"everyone","text":"hi"}', 'invalid_field', null],
		[`{"type":"history","with":"${'x'.repeat(33)}"}`, 'invalid_field', null],
		['{"type":"history","with":"bob","limit":0}', 'invalid_field', null],
		['{"type":"history","with":"bob","limit":501}', 'invalid_field', null],
		['{"type":"history","with":"bob","limit":2.5}', 'invalid_field', null],
		['{"type":"history","with":"bob","before":"9"}', 'invalid_field', null],
		['{"type":"search","words":"   "}', 'invalid_field', null],
		[`{"type":"search","words":"${'a'.repeat(1001)}"}`, 'invalid_field', null],
		['{"type":"forget"}', 'missing_field', null],
		['{"type":"lookup","names":[]}', 'invalid_field', null],
		['{"type":"lookup","names":"bob"}', 'invalid_field', null],
		['{"type":"lookup","names":["bob",3]}', 'invalid_field', null],
		[`{"type":"lookup","names":${JSON.stringify(Array.from({length: 101}, (_, i) => `u${i}`))}}`, 'invalid_field', null],
		['{"type":"trust","user":"#everyone"}', 'invalid_field', null],
		['{"type":"who","ref":{"a":1}}', 'invalid_field', null],
		[`{"type":"who","ref":"${'r'.repeat(129)}"}`, 'invalid_field', null],
	])('%j: %s', (line, code, ref) => {
		const parsed = parseCommand(line);
		expect(parsed).toMatchObject({ok: false, code, ref});
		expect(parsed.ok || parsed.message.length > 0).toBe(true);
	});
});
