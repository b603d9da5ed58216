// The PostgreSQL a benchmark runs against: IM_TUI_BENCH_POSTGRES if set (a URL of a role that may
// create databases); else a private cluster started by scripts/test-postgres.sh if the checkout has
// it; else a private cluster started here the same way (initdb in a new temporary directory, trust
// auth, 127.0.0.1 on a free port, fsync on, run as the `postgres` user when we are root) and
// stopped and deleted afterwards.
import {execFileSync} from 'node:child_process';
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const script = fileURLToPath(new URL('../scripts/test-postgres.sh', import.meta.url));

/** Returns {url, where, stop()}: `where` says which server it is, for the table's header. */
export async function startBenchPostgres() {
	const given = process.env.IM_TUI_BENCH_POSTGRES;
	if (given) return {url: given, where: `IM_TUI_BENCH_POSTGRES (${new URL(given).host})`, stop: async () => {}};
	if (existsSync(script)) return fromScript();
	return privateCluster();
}

function fromScript() {
	const output = execFileSync('bash', [script, 'start'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
	const exported = Object.fromEntries([...output.matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm)].map(([, name, value]) => [name, value]));
	const url = exported.IM_TUI_TEST_POSTGRES;
	if (!url) throw new Error(`scripts/test-postgres.sh start printed no IM_TUI_TEST_POSTGRES:\n${output}`);
	return {
		url,
		where: 'a private cluster (scripts/test-postgres.sh)',
		stop: async () => {
			execFileSync('bash', [script, 'stop'], {stdio: 'inherit', env: {...process.env, ...exported}});
		},
	};
}

async function privateCluster() {
	const bin = serverBinaries();
	const dir = mkdtempSync(join(tmpdir(), 'im-tui-bench-pg-'));
	const asRoot = process.getuid?.() === 0;
	const run = (command, args) => {
		const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
		execFileSync(file, argv, {stdio: ['ignore', 'ignore', 'inherit']});
	};
	if (asRoot) chownSync(dir, ...postgresIds());
	const data = join(dir, 'data');
	const port = await freePort();
	run('initdb', ['-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '-D', data]);
	run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', 'start', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`]);
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		where: `a private cluster (${bin}, started here)`,
		stop: async () => {
			run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
			rmSync(dir, {recursive: true, force: true});
		},
	};
}

function serverBinaries() {
	try {
		const bin = execFileSync('pg_config', ['--bindir'], {encoding: 'utf8'}).trim();
		if (existsSync(join(bin, 'initdb'))) return bin;
	} catch {}
	const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter(name => /^\d+$/.test(name)) : [];
	const newest = versions.sort((left, right) => Number(right) - Number(left))[0];
	if (newest === undefined) throw new Error('no PostgreSQL server binaries: install postgresql (apt-get install postgresql), or set IM_TUI_BENCH_POSTGRES');
	return `/usr/lib/postgresql/${newest}/bin`;
}

function postgresIds() {
	const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}));
	const gid = Number(execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}));
	return [uid, gid];
}

async function freePort() {
	const server = createServer();
	await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address();
	await new Promise(resolve => server.close(resolve));
	return port;
}
