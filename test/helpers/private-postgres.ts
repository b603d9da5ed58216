import {execFile, execFileSync} from 'node:child_process';
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** Where initdb and pg_ctl are: IM_TUI_POSTGRES_BIN, or the newest of Debian's /usr/lib/postgresql/N/bin. */
function findBinDir(): string {
	const given = process.env['IM_TUI_POSTGRES_BIN'];
	if (given !== undefined) return given;
	const root = '/usr/lib/postgresql';
	const versions = existsSync(root) ? readdirSync(root).filter(name => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
	return join(root, versions[0] ?? '15', 'bin');
}

const binDir = findBinDir();

const asRoot = process.getuid?.() === 0;

function postgresUserExists(): boolean {
	try {
		execFileSync('id', ['-u', 'postgres'], {stdio: 'ignore'});
		return true;
	} catch {
		return false;
	}
}

/**
 * Why a private PostgreSQL cluster cannot be made here, or undefined if it can: it needs initdb
 * and pg_ctl, and, run as root (PostgreSQL refuses to run as root), a `postgres` user to run them.
 */
export function privateClusterUnavailable(): string | undefined {
	if (!existsSync(join(binDir, 'initdb')) || !existsSync(join(binDir, 'pg_ctl'))) return `no initdb and pg_ctl in ${binDir} (set IM_TUI_POSTGRES_BIN)`;
	if (asRoot && !postgresUserExists()) return 'running as root (PostgreSQL will not) and there is no postgres user to run it as';
	return undefined;
}

/** A PostgreSQL server of the test's own, in a temp directory on a free port: stop and start it at will. */
export type PrivateCluster = {
	readonly url: string;
	start(): Promise<void>;
	stop(): Promise<void>;
	/** Stops it if running and removes its directory. */
	destroy(): Promise<void>;
};

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

/** Runs a PostgreSQL program, as the postgres user when this process is root. */
async function postgresProgram(program: string, args: readonly string[]): Promise<void> {
	const path = join(binDir, program);
	if (!asRoot) {
		await run(path, [...args]);
		return;
	}
	// Every argument is a path of ours or a fixed word: nothing to quote but the spaces of -o.
	const command = [path, ...args.map(arg => `'${arg}'`)].join(' ');
	await run('su', ['postgres', '-s', '/bin/sh', '-c', command]);
}

/** initdb (trust, no fsync: a test's data) and start; about a second. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
	const dir = mkdtempSync(join(tmpdir(), 'im-tui-pg-'));
	if (asRoot) {
		const {stdout} = await run('id', ['-u', 'postgres']);
		chownSync(dir, Number(stdout.trim()), -1);
	}
	const data = join(dir, 'data');
	const port = await freePort();
	try {
		await postgresProgram('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
	} catch (error) {
		rmSync(dir, {recursive: true, force: true});
		throw error;
	}
	const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
	let running = false;
	const cluster: PrivateCluster = {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		async start() {
			await postgresProgram('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
			running = true;
		},
		async stop() {
			await postgresProgram('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
			running = false;
		},
		async destroy() {
			if (running) await cluster.stop();
			rmSync(dir, {recursive: true, force: true});
		},
	};
	await cluster.start();
	return cluster;
}
