import {spawn} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {connect, createServer} from 'node:net';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {identityFileName} from '../../source/relay/identity-store.js';
import {next} from '../helpers/chat.js';
import {spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

const haproxy = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find(path => existsSync(path));
const underCi = process.env['IM_TUI_REAL_CI'] === 'true';
const example = new URL('../../examples/haproxy.cfg', import.meta.url);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
	return new Promise(resolve => {
		const server = createServer().listen(0, '127.0.0.1', () => {
			const {port} = server.address() as {port: number};
			server.close(() => resolve(port));
		});
	});
}

/** Whether something listens on the port (the balancer is up). */
async function accepts(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = connect({host: '127.0.0.1', port}, () => {
			socket.destroy();
			resolve(true);
		});
		socket.on('error', () => resolve(false));
	});
}

async function relayWithKey(dataDir: string): Promise<RelayProcess> {
	const relay = await spawnRelay(['--data-dir', dataDir]);
	cleanups.push(async () => {
		relay.child.kill('SIGKILL');
		await relay.exited;
	});
	return relay;
}

// The README's load balancer example, run as written but for its addresses and its connection cap (this machine's open-file limit).
describe.skipIf(haproxy === undefined && !underCi)(`examples/haproxy.cfg in front of two relays${haproxy === undefined ? ' (skipped: no haproxy; apt-get install haproxy)' : ''}`, () => {
	it('clients reach the service through one address; when their relay dies they come back through it to the other, under the one pin', {timeout: 30_000}, async () => {
		expect(haproxy, 'haproxy is installed (.ci/run installs it)').toBeDefined();
		const dir = tempDir();
		const a = await relayWithKey(join(dir, 'a'));
		mkdirSync(join(dir, 'b'), {mode: 0o700});
		copyFileSync(join(dir, 'a', identityFileName), join(dir, 'b', identityFileName));
		const b = await relayWithKey(join(dir, 'b'));
		expect(b.fingerprint).toBe(a.fingerprint);

		const port = await freePort();
		const config = readFileSync(example, 'utf8')
			.replace('maxconn 100000', 'maxconn 1000')
			.replace('bind 0.0.0.0:5000', `bind 127.0.0.1:${port}`)
			.replace('server relay1 10.0.0.11:5000', `server relay1 127.0.0.1:${a.port}`)
			.replace('server relay2 10.0.0.12:5000', `server relay2 127.0.0.1:${b.port}`);
		expect(config).not.toMatch(/10\.0\.0\.|0\.0\.0\.0/);
		const configPath = join(dir, 'haproxy.cfg');
		writeFileSync(configPath, config);
		const balancer = spawn(haproxy!, ['-db', '-f', configPath], {stdio: ['ignore', 'pipe', 'pipe']});
		let balancerOutput = '';
		balancer.stderr.setEncoding('utf8').on('data', (chunk: string) => (balancerOutput += chunk));
		const balancerExited = new Promise(resolve => balancer.on('exit', resolve));
		cleanups.push(async () => {
			balancer.kill('SIGKILL');
			await balancerExited;
		});

		const knownRelaysPath = join(tempDir(), 'known_relays.json');
		const client = new ChatClient({
			host: '127.0.0.1',
			port,
			knownRelaysPath,
			dataDir: tempDir(),
			trustFingerprint: a.fingerprint,
			reconnect: {initialDelayMs: 100, maxDelayMs: 500},
		});
		cleanups.push(async () => client.close());
		await expect.poll(async () => accepts(port), {timeout: 10_000}).toBe(true);
		const requested = next(client, 'login-request');
		client.connect();
		await requested;
		const welcomed = next(client, 'welcome');
		client.login('alice');
		await welcomed;

		const joined = (relay: RelayProcess) => relay.stdout().includes('"user":"alice"') || relay.stderr().includes('"user":"alice"');
		await expect.poll(() => joined(a) || joined(b)).toBe(true);
		const [serving, other] = joined(a) ? [a, b] : [b, a];
		const back = next(client, 'welcome');
		serving.child.kill('SIGKILL');
		await back;
		expect(client.status).toBe('online');
		expect(joined(other)).toBe(true);
		expect(Object.keys(JSON.parse(readFileSync(knownRelaysPath, 'utf8')) as object)).toHaveLength(1);
		expect(balancerOutput).not.toMatch(/\[ALERT\]/);
	});
});
