import {readFileSync, statSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {meet, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';
import {filesUnder} from './store-files.js';

function filesHolding(directory: string, marker: string): string[] {
	const needle = Buffer.from(marker, 'utf8');
	return filesUnder(directory).filter(path => readFileSync(path).includes(needle));
}

describe('attack: a peer on a real relay against my history', () => {
	it("forget after a peer's messages were received and shown leaves their text in no file", async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		const alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const seen = record(alice, 'message');
		for (let i = 0; i < 40; i++) bob.send('alice', `zqxmarker number ${i} from bob`);
		await expect.poll(() => seen.length, {timeout: 10_000}).toBe(40);
		expect(filesHolding(aliceDir, 'zqxmarker').length).toBeGreaterThan(0);
		expect(alice.forget('bob')).toBe(40);
		expect(filesHolding(aliceDir, 'zqxmarker')).toEqual([]);
	}, 30_000);

	it('a second client in the same process on the same account is refused at login, the first goes on', async () => {
		const relay = await relayForTest();
		const dataDir = tempDir();
		const first = await onlineClient(relay, 'alice', {dataDir});
		const {newClient} = await import('../helpers/chat.js');
		const second = newClient(relay, {dataDir});
		const asked = next(second, 'login-request');
		second.connect();
		await asked;
		const refused = next(second, 'login-error');
		second.login('alice');
		const [error] = await refused;
		expect(error.code).toBe('account_in_use');
		const bob = await onlineClient(relay, 'bob');
		await meet(first, bob);
		const seen = record(first, 'message');
		bob.send('alice', 'still working');
		await expect.poll(() => seen.length).toBe(1);
		expect(first.search('working')).toHaveLength(1);
	}, 30_000);

	it('what one accepted 8 KiB message costs on disk (reported, not a limit)', async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		const alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const seen = record(alice, 'message');
		const size = () => filesUnder(aliceDir).reduce((sum, path) => sum + statSync(path).size, 0);
		const before = size();
		const count = 60;
		// Many distinct short words: the most index per byte of text.
		const word = (i: number, j: number) => (i * 4096 + j).toString(36);
		for (let i = 0; i < count; i++) {
			let text = '';
			for (let j = 0; text.length < 8000; j++) text += `${word(i, j)} `;
			bob.send('alice', text);
		}
		await expect.poll(() => seen.length, {timeout: 20_000}).toBe(count);
		alice.close();
		const perMessage = (size() - before) / count;
		console.log(`bytes on disk per accepted 8 KiB message: ${Math.round(perMessage)}`);
		expect(perMessage).toBeGreaterThan(0);
	}, 60_000);
});
