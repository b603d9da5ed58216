import {describe, expect, it} from 'vitest';
import {History} from '../../source/client/history.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {tempDir} from '../helpers/temp-dir.js';
import {join} from 'node:path';

function history(): History {
	const h = new History(openAccountDatabase(join(tempDir(), 'account.db')));
	for (let i = 0; i < 200; i++) h.received({kind: 'direct', from: 'bob', id: `m${i}`, text: `hello wörld ${i} "quoted" NEAR(a b) text:x ^start * 日本語テキスト 𝔘𝔫𝔦 ǅemal ﬁne`, sent: i, time: i} as never);
	return h;
}

const hostile = [
	'"', '""', '"*', '*', '**', 'a*', '^', '^a', 'NEAR(', 'NEAR(a b, 5)', 'text:hello', 'messages_text:x', '{text}: x', '-hello', 'NOT', 'AND OR NOT',
	'hello OR', "'", "'; DROP TABLE messages; --", '\u0000', '\u0000hello', 'ǅ', 'ﬁ', '𝔘𝔫𝔦', '\u0301', 'e\u0301', '\u200b', '\ufeff', '\ud800', 'ｈｅｌｌｏ', '٣', '²', '⅓', 'Ⅻ',
	'\u1160', '\u3164', '\u115f', '\u00ad', '\u0345', 'ΐ', 'İ', 'ß', 'ﬀ', '\u0e33', '\u0f71', 'a\u0000b', '日本語', 'テ', '\ue000', '\u{f0000}',
	'x'.repeat(10_240), 'a '.repeat(5_120), '"a" '.repeat(2_000), 'é'.repeat(5_000), '\u0301'.repeat(5_000), 'ǅ '.repeat(3000),
];

describe('attack: search with hostile words', () => {
	it('never throws and answers fast', () => {
		const h = history();
		for (const words of hostile) {
			const start = performance.now();
			expect(() => h.search(words), JSON.stringify(words.slice(0, 20))).not.toThrow();
			expect(performance.now() - start, JSON.stringify(words.slice(0, 20))).toBeLessThan(500);
		}
	});

	it('never throws on every single code point of the BMP and planes 1-2 sampled', () => {
		const h = history();
		const failures: string[] = [];
		for (let cp = 0; cp < 0x30000; cp += cp < 0x10000 ? 11 : 97) {
			if (cp >= 0xd800 && cp < 0xe000) continue;
			const words = String.fromCodePoint(cp);
			try {
				h.search(words);
				h.search(`a${words}`);
			} catch (error) {
				failures.push(`${cp.toString(16)}: ${(error as Error).message}`);
			}
		}
		expect(failures.slice(0, 10)).toEqual([]);
	}, 120_000);
});
