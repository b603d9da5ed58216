import {join} from 'node:path';
import {afterEach, describe, expect, test} from 'vitest';
import {onlineClient} from '../helpers/chat.js';
import {noPassphraseInPty} from '../helpers/first-start.js';
import {spawnPty, type PtyProcess} from '../helpers/pty.js';
import {clientBin, spawnRelay} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const bells = (text: string) => text.split('\u0007').length - 1;

// The built client in a pty: a message arriving in a conversation that is not on screen rings the
// terminal bell (BEL) once; one on screen does not; --bell off never rings.
describe('the terminal bell', () => {
	test('rings once when a conversation out of sight gets unread messages, never for one on screen, never with --bell off', {timeout: 60_000}, async () => {
		const relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay')]);
		cleanups.push(async () => {
			relay.child.kill('SIGTERM');
			await relay.exited;
		});
		const bob = await onlineClient(relay, 'bob');
		const start = (user: string, flags: string[] = []) => {
			const home = tempDir();
			const client: PtyProcess = spawnPty(process.execPath, [clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', user, '--config-dir', home, '--data-dir', home, ...flags]);
			cleanups.push(async () => client.kill());
			return client;
		};

		const alice = start('mia');
		const quiet = start('nia', ['--bell', 'off']);
		for (const client of [alice, quiet]) await noPassphraseInPty(client);
		for (const client of [alice, quiet]) await client.waitFor(text => text.includes('to bob>'), {description: 'bob selected'});
		await waitFor(() => expect(['mia', 'nia'].every(name => bob.contacts.some(contact => contact.username === name))).toBe(true));

		// On screen: no bell.
		bob.send('mia', 'on screen');
		await alice.waitFor(text => text.includes('<bob> on screen'));
		expect(bells(alice.output())).toBe(0);

		// Up to # everyone: bob's conversation is out of sight.
		let from = alice.output().length;
		alice.write('\u001B[A');
		await alice.waitFor(text => text.includes('to # everyone>'), {from});
		from = alice.output().length;
		bob.send('mia', 'out of sight');
		await alice.waitFor(text => text.includes('bob (1)') && text.includes('\u0007'), {from, description: 'the unread count and the bell'});
		// More from bob while his conversation is still unread: counted, no more bells.
		bob.send('mia', 'and again');
		await alice.waitFor(text => text.includes('bob (2)'), {from, description: 'the second unread message'});

		quiet.write('\u001B[A');
		await quiet.waitFor(text => text.includes('to # everyone>'));
		bob.send('nia', 'out of sight');
		await quiet.waitFor(text => text.includes('bob (1)'));
		// Later frames came and went meanwhile: one bell for bob's conversation, none with --bell off.
		expect(bells(alice.output().slice(from))).toBe(1);
		expect(bells(quiet.output())).toBe(0);
	});
});
