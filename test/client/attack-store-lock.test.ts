import {spawnSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {AccountDatabaseError} from '../../source/client/store/account-database.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const relay = 'a'.repeat(64);

/** Whether another process can take the database's write lock (as a second im-tui would). */
function otherProcessCanWrite(path: string): boolean {
	const script = `
		const Database = require('better-sqlite3-multiple-ciphers');
		const db = new Database(${JSON.stringify(path)}, {timeout: 0});
		try { db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS intruder (x); COMMIT'); process.stdout.write('wrote'); }
		catch (error) { process.stdout.write(error.code); }
	`;
	const child = spawnSync(process.execPath, ['-e', script], {cwd: process.cwd(), encoding: 'utf8', timeout: 20_000});
	return child.stdout === 'wrote';
}

describe('attack: the account lock', () => {
	it('holds against another process after a plain open', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice');
		try {
			expect(otherProcessCanWrite(account.path)).toBe(false);
		} finally {
			account.close();
		}
	});

	it('holds after the UI asks for the account state while it is open (no fd of ours may drop the lock)', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice');
		try {
			expect(AccountStore.state(dataDir, relay, 'alice')).toBe('plain');
			expect(otherProcessCanWrite(account.path)).toBe(false);
		} finally {
			account.close();
		}
	});

	it('a second open in the same process is refused and the first keeps its lock', () => {
		const dataDir = tempDir();
		const account = AccountStore.open(dataDir, relay, 'alice');
		try {
			let thrown: unknown;
			try {
				AccountStore.open(dataDir, relay, 'alice').close();
			} catch (error) {
				thrown = error;
			}
			expect(thrown).toBeInstanceOf(AccountDatabaseError);
			expect((thrown as AccountDatabaseError).code).toBe('account_in_use');
			expect(otherProcessCanWrite(account.path)).toBe(false);
			account.history.received({kind: 'direct', from: 'bob', id: 'm1', text: 'still mine', sent: 1, time: 1} as never);
			expect(account.history.search('mine')).toHaveLength(1);
		} finally {
			account.close();
		}
	});
});
