import React from 'react';
import {describe, expect, test} from 'vitest';
import {App, type AppProps} from '../../source/components/app.js';
import type {AccountState} from '../../source/client/client-events.js';
import {keys, press, submit} from '../helpers/keys.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {FakeConnection} from './fake-connection.js';

const choosePrompt = 'Passphrase to encrypt your messages and keys on this device (Enter for none):';

/** The App logging in as alice over a scripted connection, the account in `state` on this device. */
async function start(state: AccountState, props: Partial<AppProps> = {}) {
	const connection = new FakeConnection();
	connection.accountStates.set('alice', state);
	const view = renderApp(<App host="h" port={1} username="alice" knownRelaysPath="/nonexistent/k.json" dataDir="/nonexistent" createConnection={() => connection} {...props} />);
	await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
	connection.emit('status', 'login');
	connection.emit('login-request');
	return {connection, view};
}

/** Types a secret, checks that the field shows one • per character and never the text, then presses Enter. */
async function typeSecret(view: AppView, secret: string) {
	await press(view, secret);
	await waitFor(() => expect(view.lastFrame()).toMatch(new RegExp(`› •{${[...secret].length}}(?!•)`)));
	await press(view, keys.enter);
}

/** No frame ever drawn held any of `secrets`. */
function neverShown(view: AppView, secrets: string[]) {
	for (const frame of view.stdout.frames) for (const secret of secrets) expect(frame).not.toContain(secret);
}

function welcome(connection: FakeConnection) {
	connection.emit('status', 'online');
	connection.emit('welcome', {username: 'alice', users: [], motd: null, online: [], onlineCount: 1, waiting: 0});
}

describe('the passphrase at login', () => {
	test('a first start asks for one, then again; two that differ are said so and asked again; the one chosen logs in', async () => {
		const {connection, view} = await start('absent');
		await waitFor(() => expect(view.lastFrame()).toContain(choosePrompt));
		expect(connection.logins).toEqual([]);
		await typeSecret(view, 'tango-Mango');
		await waitFor(() => expect(view.lastFrame()).toContain('Again, to confirm:'));
		await typeSecret(view, 'tango-mango');
		await waitFor(() => expect(view.lastFrame()).toContain('The two were not the same, so nothing was set: type the passphrase again, twice.'));
		expect(view.lastFrame()).toContain(choosePrompt);
		expect(connection.logins).toEqual([]);
		await typeSecret(view, 'zebra 42');
		await waitFor(() => expect(view.lastFrame()).toContain('Again, to confirm:'));
		await typeSecret(view, 'zebra 42');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		expect(connection.passphrases).toEqual(['zebra 42']);
		welcome(connection);
		await waitFor(() => expect(view.lastFrame()).toContain('you: alice'));
		neverShown(view, ['tango', 'Mango', 'zebra']);
	});

	test('Enter alone on a first start: no passphrase, nothing more asked', async () => {
		const {connection, view} = await start('absent');
		await waitFor(() => expect(view.lastFrame()).toContain(choosePrompt));
		await press(view, keys.enter);
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		expect(connection.passphrases).toEqual([undefined]);
		expect(view.lastFrame()).not.toContain('Again, to confirm');
	});

	test('an encrypted account: a wrong passphrase is said so and asked again; the right one logs in', async () => {
		const {connection, view} = await start('encrypted');
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase for alice on this device:'));
		await typeSecret(view, 'not-it');
		await waitFor(() => expect(connection.passphrases).toEqual(['not-it']));
		connection.emit('login-error', {code: 'wrong_passphrase', message: 'wrong passphrase for this account: nothing was changed; try again'});
		await waitFor(() => expect(view.lastFrame()).toContain('✗ Wrong passphrase, nothing was changed.'));
		expect(view.lastFrame()).toContain('Passphrase for alice on this device:');
		await typeSecret(view, 'the-right-one');
		await waitFor(() => expect(connection.passphrases).toEqual(['not-it', 'the-right-one']));
		expect(connection.logins).toEqual(['alice', 'alice']);
		welcome(connection);
		await waitFor(() => expect(view.lastFrame()).toContain('you: alice'));
		neverShown(view, ['not-it', 'right-one']);
	});

	test('passphrase_required (the account turned out encrypted) asks the same way', async () => {
		const {connection, view} = await start('plain');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		connection.emit('login-error', {code: 'passphrase_required', message: 'encrypted'});
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase for alice on this device:'));
		expect(view.lastFrame()).not.toContain('Wrong passphrase');
	});

	test.each(['plain', 'legacy'] as const)('a %s account logs in without a question', async state => {
		const {connection, view} = await start(state);
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		expect(connection.passphrases).toEqual([undefined]);
		expect(view.lastFrame()).not.toContain('Passphrase');
	});

	test('a passphrase given ahead (--passphrase-file, IM_TUI_PASSPHRASE) asks nothing on a first start', async () => {
		let given: string | undefined;
		const connection = new FakeConnection();
		connection.accountStates.set('alice', 'absent');
		const view = renderApp(
			<App
				host="h"
				port={1}
				username="alice"
				knownRelaysPath="/nonexistent/k.json"
				dataDir="/nonexistent"
				passphrase="from-a-file"
				createConnection={options => {
					given = options.passphrase;
					return connection;
				}}
			/>,
		);
		await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
		connection.emit('login-request');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		expect(given).toBe('from-a-file');
		expect(connection.passphrases).toEqual([undefined]);
		expect(view.lastFrame()).not.toContain('Passphrase');
	});

	test('another im-tui using the account: said so, and the name is asked again', async () => {
		const {connection, view} = await start('plain');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		connection.emit('login-error', {code: 'account_in_use', message: 'locked'});
		await waitFor(() => expect(view.lastFrame()).toContain('Another im-tui is using this account: quit it first.'));
		expect(view.lastFrame()).toContain('Username:');
	});

	test('Esc at the passphrase goes back to the name', async () => {
		const {connection, view} = await start('encrypted');
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase for alice on this device:'));
		await press(view, 'abc');
		await press(view, '\u001B');
		await waitFor(() => expect(view.lastFrame()).toContain('Username:'));
		connection.accountStates.set('bob', 'plain');
		await submit(view, 'bob');
		await waitFor(() => expect(connection.logins).toEqual(['bob']));
	});
});

describe('/passphrase', () => {
	async function chatting() {
		const {connection, view} = await start('plain');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		welcome(connection);
		await waitFor(() => expect(view.lastFrame()).toContain('you: alice'));
		await submit(view, '/passphrase');
		await waitFor(() => expect(view.lastFrame()).toContain('New passphrase (Enter for none: removes the passphrase):'));
		return {connection, view};
	}

	test('asks twice, sets it, and says so', async () => {
		const {connection, view} = await chatting();
		await typeSecret(view, 'first-try');
		await typeSecret(view, 'first-tyr');
		await waitFor(() => expect(view.lastFrame()).toContain('The two were not the same'));
		await typeSecret(view, 'new-secret');
		await waitFor(() => expect(view.lastFrame()).toContain('Again, to confirm:'));
		await typeSecret(view, 'new-secret');
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase set: your messages and keys on this device are'));
		expect(connection.calls).toEqual(['setPassphrase']);
		neverShown(view, ['first-t', 'new-secret']);
	});

	test('Enter alone removes it, after a confirmation that says what that means', async () => {
		const {connection, view} = await chatting();
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('Remove the passphrase?'));
		expect(view.lastFrame()).toContain('stored unencrypted');
		await press(view, 'y');
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase removed'));
		expect(connection.calls).toEqual(['setPassphrase none']);
	});

	test('any other key than y at the confirmation keeps it; Esc leaves it unchanged', async () => {
		const {connection, view} = await chatting();
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('Remove the passphrase?'));
		await press(view, 'n');
		await waitFor(() => expect(view.lastFrame()).toContain('The passphrase was not changed.'));
		await submit(view, '/passphrase');
		await waitFor(() => expect(view.lastFrame()).toContain('New passphrase'));
		await press(view, 'abc');
		await press(view, '\u001B');
		await waitFor(() => expect(view.lastFrame()).toContain('you: alice'));
		expect(connection.calls).toEqual([]);
	});

	test('a failure is shown as a system line', async () => {
		const {connection, view} = await chatting();
		connection.setPassphrase = () => {
			throw new Error('the disk is full');
		};

		await typeSecret(view, 'abc');
		await typeSecret(view, 'abc');
		await waitFor(() => expect(view.lastFrame()).toContain('The passphrase was not changed: the disk is full'));
	});
});
