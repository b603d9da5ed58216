import {readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {clientBin} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, tmuxVersion, type Tmux} from '../helpers/tmux.js';

// The built client in a real terminal against something that speaks another protocol version.

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Answers every client_hello with `frame`; counts the connections. */
async function answering(frame: object): Promise<{port: number; connections: () => number}> {
	let connections = 0;
	const server: Server = createServer(socket => {
		connections++;
		socket.on('error', () => {});
		socket.once('data', () => socket.write(JSON.stringify(frame) + '\n'));
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	cleanups.push(async () => new Promise(resolve => server.close(resolve)));
	return {port: (server.address() as {port: number}).port, connections: () => connections};
}

async function startClient(tmux: Tmux, port: number) {
	const home = tempDir();
	const stderr = join(home, 'stderr.txt');
	const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(port), '--trust', 'ab'.repeat(32), '--user', 'alice'];
	const command = `XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))} ${client.map(shellQuote).join(' ')} 2>${shellQuote(stderr)}; echo "EXIT=$?"; sleep 600`;
	await tmux.newSession('alice', command, {columns: 100, rows: 30});
	return {stderr: () => readFileSync(stderr, 'utf8')};
}

describe('a relay of another protocol version, in a real terminal (tmux)', () => {
	it('a signed hello of version 5: the client exits 1 with words that say what to upgrade, and does not try again', {timeout: 60_000}, async context => {
		if (tmuxVersion() === undefined) context.skip('tmux is not installed');
		const key = () => toBase64Url(generateRawKeyPair('ed25519').publicRaw);
		const relay = await answering({type: 'relay_hello', version: 5, identity: key(), ephemeral: key(), signature: toBase64Url(Buffer.alloc(64))});
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const client = await startClient(tmux, relay.port);
		await tmux.waitForScreen('alice', /EXIT=1/, {timeoutMs: 15_000});
		expect(client.stderr().split('\n')[0]).toBe(
			'im-tui: this client speaks im-tui protocol version 4 (im-tui 0.5.0) and the relay speaks the newer version 5: upgrade im-tui (npm install -g im-tui@latest)',
		);
		expect(relay.connections()).toBe(1);
	});

	it('a plaintext unsupported_version before the handshake is shown as the unverified claim it is, and the client keeps trying', {timeout: 60_000}, async context => {
		if (tmuxVersion() === undefined) context.skip('tmux is not installed');
		const words = 'this relay speaks im-tui protocol version 5 (im-tui 0.6.0) and your im-tui speaks version 4: upgrade im-tui';
		const relay = await answering({type: 'error', code: 'unsupported_version', message: words, fatal: true, ref: null});
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		await startClient(tmux, relay.port);
		const screen = await tmux.waitForScreen('alice', /\[reconnecting in \d+ s…\]/, {timeoutMs: 15_000});
		expect(screen.replace(/[│\s]+/g, ' ')).toContain('unverified: "unsupported_version: this relay speaks im-tui protocol version 5');
		await tmux.waitForScreen('alice', () => relay.connections() > 1, {timeoutMs: 15_000});
		await tmux.sendKeys('alice', 'C-c');
		await tmux.waitForScreen('alice', /EXIT=1/, {timeoutMs: 15_000});
	});
});
