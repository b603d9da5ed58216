import {execFileSync} from 'node:child_process';
import {cpSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {meet, next, onlineClient} from './helpers/chat.js';
import {runToExit, spawnRelay} from './helpers/relay-process.js';
import {tempDir} from './helpers/temp-dir.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string}).version;

// What `npx im-tui` gives a user: the packed tarball installed into an empty folder.
describe('the published package', () => {
	it('installs from npm pack into an empty folder and runs both bins', {timeout: 120_000}, async () => {
		const packDir = tempDir();
		execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], {cwd: root, stdio: 'ignore'});
		const tarball = readdirSync(packDir).find(name => name.endsWith('.tgz'))!;
		const files = execFileSync('tar', ['-tzf', join(packDir, tarball)], {encoding: 'utf8'});
		expect(files).toContain('package/dist/im-tui.js');
		expect(files).toContain('package/dist/server-cli.js');
		expect(files).not.toContain('package/source/');

		const project = tempDir();
		writeFileSync(join(project, 'package.json'), '{"name":"try-im-tui","private":true}\n');
		// The native SQLite module would be compiled again (two minutes here); the one this checkout
		// built is the same package at the same version, so it is copied in instead.
		execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(packDir, tarball)], {
			cwd: project,
			stdio: 'ignore',
		});
		cpSync(join(root, 'node_modules', 'better-sqlite3-multiple-ciphers', 'build'), join(project, 'node_modules', 'better-sqlite3-multiple-ciphers', 'build'), {
			recursive: true,
		});
		const bin = (name: string) => join(project, 'node_modules', 'im-tui', 'dist', name);

		const server = await runToExit(bin('server-cli.js'), ['--help']);
		expect(server.code).toBe(0);
		expect(server.stdout).toContain('im-tui-server [options]');
		const client = await runToExit(bin('im-tui.js'), ['--help']);
		expect(client.code).toBe(0);
		expect(client.stdout).toContain('--host');

		// stdin is not a terminal here: a clear message, no stack trace
		const notTty = await runToExit(bin('im-tui.js'), ['--host', '127.0.0.1', '--port', '5000', '--user', 'alice']);
		expect(notTty.code).toBe(2);
		expect(notTty.stderr).toMatch(/terminal/i);
		expect(notTty.stderr).not.toMatch(/\bat .*\.js:\d+/);

		for (const name of ['im-tui', 'im-tui-server']) {
			const linked = execFileSync(join(project, 'node_modules', '.bin', name), ['--version'], {encoding: 'utf8'});
			expect(linked.trim()).toBe(packageVersion);
		}

		// the installed relay really runs: a client logs in and gets a message through it
		const relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay')], {}, bin('server-cli.js'));
		try {
			const alice = await onlineClient(relay, 'alice');
			const bob = await onlineClient(relay, 'bob');
			await meet(alice, bob);
			const received = next(bob, 'message');
			alice.send('bob', 'from the packed relay');
			expect((await received)[0].text).toBe('from the packed relay');
		} finally {
			relay.child.kill('SIGTERM');
			await relay.exited;
		}
	});
});
