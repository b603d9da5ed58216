import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {next} from '../helpers/chat.js';
import {noPassphraseIn} from '../helpers/first-start.js';
import {clientBin} from '../helpers/relay-process.js';
import {type Cleanups, headlessUser, needTmux, relayUntilEnd, runCleanups} from '../helpers/real-terminal.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, type Tmux} from '../helpers/tmux.js';

// The built client in a real terminal, on a relay whose users are not everyone's contacts
// (--community off): people are found by name, with /msg and with the sidebar's search (Ctrl+G).

const columns = 100;
const rows = 30;
const waitMs = 15_000;

const cleanups: Cleanups = [];

afterEach(async () => runCleanups(cleanups));


/** Resolves with the text of the next message `client` receives. */
async function nextText(client: ChatClient): Promise<string> {
	return (await next(client, 'message', waitMs))[0].text;
}

describe('finding people by name in a real terminal (tmux)', () => {
	it('Ctrl+G finds someone shown online and /msg someone who is not: both are looked up, pinned and written to; an unknown name is said so', {timeout: 90_000}, async context => {
		needTmux(context);

		const relay = await relayUntilEnd(cleanups, ['--community', 'off']);
		const tmux: Tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const ui = async (...patterns: Array<string | RegExp>) =>
			tmux.waitForScreen('alice', screen => patterns.every(pattern => (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen))), {
				timeoutMs: waitMs,
				description: patterns.map(String).join(' and '),
			});

		const carol = await headlessUser(relay, 'carol', cleanups);
		const bob = await headlessUser(relay, 'bob', cleanups);
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
