import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {noPassphraseIn} from '../helpers/first-start.js';
import {clientBin} from '../helpers/relay-process.js';
import {type Cleanups, headlessUser, needTmux, relayUntilEnd, runCleanups} from '../helpers/real-terminal.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote} from '../helpers/tmux.js';
import {onRoomEvent, roomsOf} from '../../source/hooks/rooms/room-api.js';

// The built client in a real terminal (tmux), with a person who makes a room and a second client
// without a screen who joins it: what each sees, as it would in use.

const waitMs = 15_000;
const cleanups: Cleanups = [];

afterEach(async () => runCleanups(cleanups));

describe('a room in a real terminal (tmux)', () => {
	it('alice creates #dev and invites bob, bob accepts, a message each way shows on her screen with ✓ 1/1', {timeout: 90_000}, async context => {
		needTmux(context);
		const relay = await relayUntilEnd(cleanups);
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const ui = async (...patterns: Array<string | RegExp>) =>
			tmux.waitForScreen('alice', screen => patterns.every(pattern => (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen))), {
				timeoutMs: waitMs,
				description: patterns.map(String).join(' and '),
			});

		const bob = await headlessUser(relay, 'bob', cleanups);
		const home = tempDir('im-tui-e2e-');
		const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', 'alice'];
		const environment = `XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))}`;
		await tmux.newSession('alice', `${environment} ${client.map(shellQuote).join(' ')}; sleep 600`, {columns: 100, rows: 30});
		await noPassphraseIn(tmux, 'alice');
		await ui('[online]', 'you: alice');

		await tmux.type('alice', '/create #dev builds and releases');
		await tmux.sendKeys('alice', 'Enter');
		await ui(/\d\d:\d\d --> alice created #dev \(topic: builds and releases\)/, 'to #dev>', '#dev: 1 member · builds and releases');

		// bob accepts the invitation as soon as it comes.
		const invited = new Promise<void>(resolve => {
			onRoomEvent(bob, 'room-invite', ({room}) => {
				roomsOf(bob).accept(room);
				resolve();
			});
		});
		await tmux.type('alice', '/invite bob');
		await tmux.sendKeys('alice', 'Enter');
		await invited;
		await ui(/--> alice added bob/, '#dev: 2 members');

		const fromBob = `from-bob-${randomBytes(4).toString('hex')}`;
		roomsOf(bob).send('dev', fromBob);
		await ui(new RegExp(`\\d\\d:\\d\\d <bob> ${fromBob}`));

		const heard = new Promise<string>(resolve => {
			onRoomEvent(bob, 'room-message', ({text}) => resolve(text));
		});
		const fromAlice = `from-alice-${randomBytes(4).toString('hex')}`;
		await tmux.type('alice', fromAlice);
		await ui(`to #dev> ${fromAlice}`);
		await tmux.sendKeys('alice', 'Enter');
		expect(await heard).toBe(fromAlice);
		await ui(new RegExp(`<alice> ${fromAlice} ✓ 1/1`));
		expect(relay.stdout() + relay.stderr()).not.toContain(fromAlice);
	});
});
