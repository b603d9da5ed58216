import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {History} from '../../source/client/history.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {tempDir} from '../helpers/temp-dir.js';

const from = (author: string, index: number, text: string) => ({id: `${author}${index}`, from: author, to: 'me', kind: 'direct' as const, text, time: index, sent: index});

describe('the history kept per conversation is capped', () => {
	it('someone who floods their conversation pushes out only its own oldest messages, down to nine tenths of the cap', () => {
		const db = openAccountDatabase(join(tempDir(), 'account.db'));
		const history = new History(db, 'forever', 100_000);
		history.received(from('bob', 0, 'kept: another conversation'));
		const text = 'x'.repeat(1000);
		for (let index = 0; index < 250; index++) history.received(from('mallory', index, text));
		const kept = history.page('mallory', {limit: 500});
		const bytes = kept.reduce((sum, entry) => sum + entry.text.length, 0);
		expect(bytes).toBeLessThanOrEqual(100_000);
		expect(bytes).toBeGreaterThanOrEqual(80_000);
		// the newest stay, the oldest went, in order
		expect(kept.at(-1)!.id).toBe('mallory249');
		expect(Number(kept[0]!.id.slice('mallory'.length))).toBeGreaterThan(100);
		expect(history.page('bob', {limit: 10}).map(entry => entry.text)).toEqual(['kept: another conversation']);
		// the search index follows: the pushed-out messages are not found
		expect(history.search('x').length).toBe(Math.min(50, kept.length));
		const size = db.prepare("SELECT bytes FROM conversation_sizes WHERE conversation = 'mallory'").pluck().get();
		expect(size).toBe(bytes);
	});
});
