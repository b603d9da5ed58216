import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, test} from 'vitest';
import {parseRetention, passphraseFrom} from '../source/client-flags.js';
import {tempDir} from './helpers/temp-dir.js';

describe('parseRetention (--keep-history)', () => {
	test.each([
		['forever', 'forever'],
		['off', 'off'],
		['OFF', 'off'],
		['1', {days: 1}],
		[' 30 ', {days: 30}],
		['36500', {days: 36_500}],
	])('%j', (raw, value) => {
		expect(parseRetention(raw)).toEqual({ok: true, value});
	});

	test.each(['0', '36501', '-1', '1e3', '7.5', '0x10', 'never', '', '99999999'])('%j is refused', raw => {
		expect(parseRetention(raw)).toMatchObject({ok: false});
	});
});

describe('passphraseFrom', () => {
	const file = (content: string) => {
		const path = join(tempDir(), 'passphrase');
		writeFileSync(path, content, {mode: 0o600});
		return path;
	};

	test('the first line of the file, its line break stripped; spaces are kept', () => {
		expect(passphraseFrom(file('  two words \r\nsecond line\n'), {})).toEqual({ok: true, value: '  two words '});
		expect(passphraseFrom(file('no line feed'), {})).toEqual({ok: true, value: 'no line feed'});
		expect(passphraseFrom(file(`${'p'.repeat(1024)}\n`), {})).toEqual({ok: true, value: 'p'.repeat(1024)});
	});

	test('the flag wins over IM_TUI_PASSPHRASE; the variable alone is used; neither: none', () => {
		expect(passphraseFrom(file('from file\n'), {IM_TUI_PASSPHRASE: 'from env'})).toEqual({ok: true, value: 'from file'});
		expect(passphraseFrom(undefined, {IM_TUI_PASSPHRASE: 'from env'})).toEqual({ok: true, value: 'from env'});
		expect(passphraseFrom(undefined, {})).toEqual({ok: true, value: undefined});
	});

	test('no message holds the passphrase', () => {
		const result = passphraseFrom(file(`secret-${'x'.repeat(2000)}`), {});
		expect(result.ok).toBe(false);
		expect(JSON.stringify(result)).not.toContain('secret-');
	});
});
