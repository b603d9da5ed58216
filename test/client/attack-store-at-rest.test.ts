import {readdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {AccountStore} from '../../source/client/store/account-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const relay = 'b'.repeat(64);

/** The files of the account directory that hold `marker` (UTF-8), by name. */
function filesHolding(directory: string, marker: string): string[] {
	const needle = Buffer.from(marker, 'utf8');
	return readdirSync(directory).filter(name => readFileSync(join(directory, name)).includes(needle));
}

function receive(account: AccountStore, from: string, count: number, text: (i: number) => string): void {
	for (let i = 0; i < count; i++) account.history.received({kind: 'direct', from, id: `${from}-${i}`, text: text(i), sent: i, time: Date.now()} as never);
}

describe('attack: what stays on disk', () => {
	it('forget leaves the text in no file, open or closed', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice');
		const directory = dirname(account.path);
		receive(account, 'bob', 300, i => `zqxsecret${i % 7} and some padding words number ${i} zqxsecretword`);
		receive(account, 'carol', 300, i => `carol says ${i} hello`);
		expect(filesHolding(directory, 'zqxsecret').length).toBeGreaterThan(0);
		expect(account.history.forget('bob')).toBe(300);
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
		account.close();
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
	});

	it('with a passphrase no plaintext is in any file while running', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice', {passphrase: 'pw'});
		const directory = dirname(account.path);
		receive(account, 'bob', 200, i => `zqxsecret ${i} plaintext`);
		account.history.search('zqxsecret');
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
		expect(filesHolding(directory, 'bob-1')).toEqual([]);
		account.close();
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
	});

	it('adding a passphrase to a plain account leaves no plaintext in any file', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice');
		const directory = dirname(account.path);
		receive(account, 'bob', 400, i => `zqxsecret ${i} plaintext that must be encrypted`);
		account.setPassphrase('pw');
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
		receive(account, 'dave', 10, i => `later ${i}`);
		account.close();
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
		const again = AccountStore.open(dataDir, relay, 'alice', {passphrase: 'pw'});
		expect(again.history.search('zqxsecret')).toHaveLength(50);
		again.close();
	});

	it('opening a plain account with a passphrase encrypts it and leaves no plaintext', () => {
		const dataDir = tempDir();
		const first = AccountStore.open(dataDir, relay, 'alice');
		const directory = dirname(first.path);
		receive(first, 'bob', 400, i => `zqxsecret ${i} plaintext`);
		first.close();
		const account = AccountStore.open(dataDir, relay, 'alice', {passphrase: 'pw'});
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
		account.close();
		expect(filesHolding(directory, 'zqxsecret')).toEqual([]);
	});
});
