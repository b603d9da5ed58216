import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {logIn, meet, newClient, next, onlineClient, record} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {runToExit, serverBin, spawnRelay} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('im-tui-server --store: bad flags are refused with words', () => {
	it.each([
		[['--store', 'sqlite:///tmp/x'], /--store must be a PostgreSQL URL/],
		[['--store', 'not a url'], /--store must be a PostgreSQL URL/],
		[['--store', 'postgres://u@h/d', '--relay-id', 'Bad-Id'], /--relay-id must be 1 to 40 of a-z/],
		[['--store', 'postgres://u@h/d', '--lease-ms', '10s'], /--lease-ms must be a whole number/],
		[['--store', 'postgres://u@h/d', '--lease-ms', '5'], /--lease-ms must be a whole number of milliseconds from 30/],
		[['--relay-id', 'a'], /--relay-id names a relay in a PostgreSQL store/],
		[['--lease-ms', '100'], /--lease-ms is for relays sharing a PostgreSQL store/],
	])('%j', async (args, message) => {
		const result = await runToExit(serverBin, ['--data-dir', tempDir(), '--port', '0', ...args]);
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(message);
	});
});

describePostgres('im-tui-server --store postgres://…', () => {
	const database = usePostgresDatabase();

	it('keeps only its key in --data-dir; users and queues outlive the relay in PostgreSQL', {timeout: 30_000}, async () => {
		const dataDir = join(tempDir(), 'relay');
		let relay = await spawnRelay(['--data-dir', dataDir, '--store', database.url, '--relay-id', 'one']);
		try {
			const alice = await onlineClient(relay, 'alice');
			const bobDir = tempDir();
			const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
			await meet(alice, bob);
			await bob.close();
			const accepted = next(alice, 'accepted', 10_000);
			alice.send('bob', 'kept in postgres');
			await accepted;
			await alice.close();
			relay.child.kill('SIGKILL');
			await relay.exited;
			expect(existsSync(join(dataDir, 'relay.sqlite'))).toBe(false);
			// postgresql:// too, and a restart with the same id after a kill (its lease expired or not: a new start of it reaps it)
			relay = await spawnRelay(['--data-dir', dataDir, '--store', database.url.replace(/^postgres:/, 'postgresql:'), '--relay-id', 'two', '--lease-ms', '500']);
			const bobAgain = newClient(relay, {dataDir: bobDir});
			const messages = record(bobAgain, 'message');
			await logIn(bobAgain, 'bob');
			await expect.poll(() => messages.map(([message]) => message.text)).toEqual(['kept in postgres']);
		} finally {
			relay.child.kill('SIGTERM');
			await relay.exited;
		}
	});
});
