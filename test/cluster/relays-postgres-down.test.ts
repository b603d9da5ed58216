import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {meet} from '../helpers/chat.js';
import {postgresSkipReason, postgresUrl} from '../helpers/postgres.js';
import {privateClusterUnavailable, startPrivateCluster, type PrivateCluster} from '../helpers/private-postgres.js';
import {pairClient, pairHosts, relayPair} from '../helpers/relay-pair.js';

// Run when PostgreSQL tests are asked for (IM_TUI_TEST_POSTGRES), though it starts a server of its own.
const noCluster = postgresUrl === undefined ? postgresSkipReason : privateClusterUnavailable();

(noCluster === undefined ? describe : describe.skip)(
	`two relays when their PostgreSQL stops and starts again${noCluster === undefined ? '' : ` (skipped: ${noCluster})`}`,
	() => {
		let database: PrivateCluster | undefined;
		beforeAll(async () => {
			database = await startPrivateCluster();
		}, 60_000);
		afterAll(async () => {
			await database?.destroy();
		}, 60_000);

		it('senders hear storage_failed, nothing accepted is lost, and the service is back when PostgreSQL is', {timeout: 90_000}, async () => {
			const pair = await relayPair(database!.url, 5000);
			try {
				const alice = await pairClient(pair, 'alice', {hosts: [pairHosts[0]]});
				const bob = await pairClient(pair, 'bob', {hosts: [pairHosts[1]]});
				await meet(alice, bob);
				const received: string[] = [];
				bob.on('message', message => received.push(message.text));
				const accepted = new Set<string>();
				alice.on('accepted', ({id}) => accepted.add(id));
				const errors: string[] = [];
				alice.on('relay-error', ({code}) => errors.push(code));
				const before = alice.send('bob', 'before');
				await expect.poll(() => accepted.has(before)).toBe(true);

				await database!.stop();
				const during = alice.send('bob', 'while postgres is down');
				await expect.poll(() => errors, {timeout: 15_000}).toContain('storage_failed');
				expect(accepted.has(during)).toBe(false);

				await database!.start();
				// The client sends it again by itself; the relays take it once PostgreSQL answers.
				await expect.poll(() => accepted.has(during), {timeout: 30_000, interval: 50}).toBe(true);
				await expect.poll(() => received, {timeout: 30_000}).toEqual(['before', 'while postgres is down']);
				const after = alice.send('bob', 'after');
				await expect.poll(() => accepted.has(after), {timeout: 15_000}).toBe(true);
				await expect.poll(() => received, {timeout: 15_000}).toEqual(['before', 'while postgres is down', 'after']);
				await Promise.all([alice.close(), bob.close()]);
			} finally {
				await pair.stop();
			}
		});
	},
);
