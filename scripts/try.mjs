#!/usr/bin/env node
// `npm run try`: a relay and a client on this machine. The first run starts a relay on
// 127.0.0.1:5000 (keys in .try/relay, logs in .try/relay.log) and opens a client; run it again in a
// second terminal to join the same relay as someone else. The relay stops with the client that
// started it. Extra arguments go to the client, e.g. `npm run try -- --user alice`.
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, openSync} from 'node:fs';
import {connect} from 'node:net';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {fingerprint} from '../dist/crypto/keys.js';
import {loadOrCreateRelayIdentity} from '../dist/relay/identity-store.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.try');
const relayDir = join(work, 'relay');
const port = Number(process.env.IM_TUI_TRY_PORT ?? 5000);

function listening() {
	return new Promise(resolve => {
		const socket = connect({host: '127.0.0.1', port});
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

async function startRelay() {
	mkdirSync(work, {recursive: true});
	const log = openSync(join(work, 'relay.log'), 'a');
	const relay = spawn(
		process.execPath,
		[join(root, 'dist', 'server-cli.js'), '--host', '127.0.0.1', '--port', String(port), '--data-dir', relayDir, '--motd', 'Welcome to the im-tui demo relay'],
		{stdio: ['ignore', 'pipe', log]},
	);
	await new Promise((resolve, reject) => {
		let out = '';
		relay.stdout.setEncoding('utf8').on('data', chunk => {
			out += chunk;
			if (out.includes('connect with:')) resolve();
		});
		relay.once('exit', code => reject(new Error(`the relay exited with ${code}; see ${join(work, 'relay.log')}`)));
	});
	return relay;
}

const alreadyRunning = await listening();
if (alreadyRunning && !existsSync(join(relayDir, 'relay_identity.json'))) {
	console.error(`something else listens on 127.0.0.1:${port}; set IM_TUI_TRY_PORT to another port`);
	process.exit(1);
}
const relay = alreadyRunning ? undefined : await startRelay();
const identity = loadOrCreateRelayIdentity(relayDir);
const client = spawn(
	process.execPath,
	[
		join(root, 'dist', 'im-tui.js'),
		'--host', '127.0.0.1',
		'--port', String(port),
		'--trust', fingerprint(identity.publicRaw),
		'--config-dir', join(work, `client-${process.pid}`),
		...process.argv.slice(2),
	],
	{stdio: 'inherit'},
);
process.on('SIGINT', () => {});
client.on('exit', code => {
	if (relay) relay.kill('SIGTERM');
	process.exitCode = code ?? 1;
});
