import {randomBytes} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import pg from 'pg';
import {afterAll, beforeAll, describe, it} from 'vitest';

/**
 * The PostgreSQL server the cluster tests use: IM_TUI_TEST_POSTGRES, a URL of a role that may
 * create databases (`.ci/run` starts a server of its own and sets it). Without it the tests are
 * skipped, naming why, except under CI (IM_TUI_REAL_CI=true: vitest.config.ts), where a missing
 * server fails the run instead of passing it unseen.
 */
export const postgresUrl = process.env['IM_TUI_TEST_POSTGRES'] || undefined;

const underCi = process.env['IM_TUI_REAL_CI'] === 'true';

export const postgresSkipReason = 'no PostgreSQL: set IM_TUI_TEST_POSTGRES=postgres://user@127.0.0.1:5432/postgres (a role that may create databases), or run .ci/run';

/** `describe` for tests that need PostgreSQL: skipped with the reason in its title when there is none, failed under CI. */
export function describePostgres(title: string, body: () => void): void {
	if (postgresUrl !== undefined) {
		describe(title, body);
		return;
	}
	if (underCi) {
		describe(title, () => {
			it(`needs PostgreSQL under CI: ${postgresSkipReason}`, () => {
				throw new Error(`CI=true and ${postgresSkipReason}`);
			});
		});
		return;
	}
	describe.skip(`${title} (skipped: ${postgresSkipReason})`, body);
}

/** Makes a database of its own on the test server; returns its URL. Drop it with dropDatabase. */
export async function createDatabase(): Promise<string> {
	const name = `im_tui_test_${randomBytes(6).toString('hex')}`;
	await asAdmin(async admin => admin.query(`create database ${name}`));
	const url = new URL(postgresUrl!);
	url.pathname = `/${name}`;
	return url.toString();
}

/**
 * Waits up to 2 s for the database's own connections to go (a pool's end() resolves before its
 * connections have closed), then drops it, ending any left: a connection ended by force while its
 * pool is closing emits an error nothing listens for any more.
 */
export async function dropDatabase(url: string): Promise<void> {
	const name = new URL(url).pathname.slice(1);
	await asAdmin(async admin => {
		for (let tries = 0; tries < 100; tries++) {
			const {rows} = await admin.query<{count: string}>(
				'select count(*) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
				[name],
			);
			if (rows[0]!.count === '0') break;
			await sleep(20);
		}
		await admin.query(`drop database if exists ${name} with (force)`);
	});
}

/**
 * A database of its own for the enclosing describePostgres block, made before its tests and
 * dropped after them: call at collection time, read `.url` inside the tests.
 */
export function usePostgresDatabase(): {readonly url: string} {
	let url: string | undefined;
	beforeAll(async () => {
		url = await createDatabase();
	});
	afterAll(async () => {
		if (url !== undefined) await dropDatabase(url);
	});
	return {
		get url() {
			if (url === undefined) throw new Error('usePostgresDatabase: read .url inside a test');
			return url;
		},
	};
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
	const admin = new pg.Client({connectionString: postgresUrl});
	await admin.connect();
	try {
		return await work(admin);
	} finally {
		await admin.end();
	}
}
