import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {next} from '../helpers/chat.js';
import {noPassphraseIn} from '../helpers/first-start.js';
import {clientBin, spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, tmuxVersion, type Tmux} from '../helpers/tmux.js';

// The built client in a real terminal, on a relay whose users are not everyone's contacts
// (--community off): people are found by name, with /msg and with the sidebar's search (Ctrl+G).

const columns = 100;
const rows = 30;
const waitMs = 15_000;

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function headlessUser(relay: RelayProcess, username: string): Promise<ChatClient> {
	const client = new ChatClient({
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: tempDir(),
		trustFingerprint: relay.fingerprint,
	});
	cleanups.push(async () => client.close());
	const asked = next(client, 'login-request', waitMs);
	client.connect();
	await asked;
	const welcomed = next(client, 'welcome', waitMs);
	client.login(username);
	await welcomed;
	return client;
}

/** Resolves with the text of the next message `client` receives. */
async function nextText(client: ChatClient): Promise<string> {
	return (await next(client, 'message', waitMs))[0].text;
}

describe('finding people by name in a real terminal (tmux)', () => {
	it('Ctrl+G finds someone shown online and /msg someone who is not: both are looked up, pinned and written to; an unknown name is said so', {timeout: 90_000}, async context => {
		if (tmuxVersion() === undefined) {
			if (process.env.IM_TUI_REAL_CI === 'true') throw new Error('tmux is not installed, and CI must run the real-terminal tests: install tmux.');
			context.skip('tmux is not installed; the real-terminal end-to-end test needs it');
		}

		const relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay'), '--community', 'off']);
		cleanups.push(async () => {
			relay.child.kill('SIGTERM');
			await relay.exited;
		});
		const tmux: Tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const ui = async (...patterns: Array<string | RegExp>) =>
			tmux.waitForScreen('alice', screen => patterns.every(pattern => (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen))), {
				timeoutMs: waitMs,
				description: patterns.map(String).join(' and '),
			});

		const carol = await headlessUser(relay, 'carol');
		const bob = await headlessUser(relay, 'bob');
		const home = tempDir('im-tui-e2e-');
		const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', 'alice'];
		const command = `XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))} ${client.map(shellQuote).join(' ')}; sleep 600`;
		await tmux.newSession('alice', command, {columns, rows});
		await noPassphraseIn(tmux, 'alice');

		// Nobody is alice's contact: the sidebar shows who logged in last, under "online now".
		await ui('[online]', 'you: alice', /online now\s*│[\s\S]*● bob[\s\S]*● carol/);

		await tmux.sendKeys('alice', 'C-g');
		await ui('/ ▏');
		await tmux.type('alice', 'bo');
		await ui('/ bo▏', '› ● bob');
		await tmux.sendKeys('alice', 'Enter');
		await ui('to bob>', 'People');
		const marker = `found-${randomBytes(4).toString('hex')}`;
		const toBob = nextText(bob);
		await tmux.type('alice', marker);
		await tmux.sendKeys('alice', 'Enter');
		expect(await toBob).toBe(marker);
		await ui(new RegExp(`<alice> ${marker} ✓`));

		await tmux.type('alice', '/msg nobody hi');
		await tmux.sendKeys('alice', 'Enter');
		await ui('Nobody is registered as nobody on this relay.');

		const toCarol = nextText(carol);
		await tmux.type('alice', '/msg Carol hello carol');
		await tmux.sendKeys('alice', 'Enter');
		expect(await toCarol).toBe('hello carol');
		await ui('to carol>', /<alice> hello carol/);
		// Both are contacts now, listed above the names shown online.
		await ui(/● bob[\s\S]*● carol/);
		expect(await tmux.capture('alice')).not.toContain('online now');

		// A name nobody listed matches: the search says Enter looks it up, and the lookup answers.
		await tmux.sendKeys('alice', 'C-g');
		await tmux.type('alice', 'Zed');
		await ui('/ Zed▏', 'Enter: look up zed');
		await tmux.sendKeys('alice', 'Enter');
		await ui('Nobody is registered as zed on this relay.');
	});
});
