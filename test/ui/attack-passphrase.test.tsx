import React from 'react';
import {describe, expect, test} from 'vitest';
import {App} from '../../source/components/app.js';
import {paste, press} from '../helpers/keys.js';
import {renderApp} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {FakeConnection} from './fake-connection.js';

describe('attack: the passphrase prompt', () => {
	test('a bracketed paste holding controls, an early paste end and a line break, then text typed in the same burst: never drawn, never left in the chat input', async () => {
		const connection = new FakeConnection();
		connection.accountStates.set('alice', 'encrypted');
		const view = renderApp(<App host="h" port={1} username="alice" knownRelaysPath="/nonexistent/k.json" dataDir="/nonexistent" createConnection={() => connection} />);
		await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
		connection.emit('status', 'login');
		connection.emit('login-request');
		await waitFor(() => expect(view.lastFrame()).toContain('Passphrase for alice on this device:'));
		await press(view, paste('Sekr\u001B[31mit\u0000\r\nX') + 'leakA\rleakB');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		connection.emit('status', 'online');
		connection.emit('welcome', {username: 'alice', users: [], motd: null, online: [], onlineCount: 1, waiting: 0});
		await waitFor(() => expect(view.lastFrame()).toContain('you: alice'));
		console.log('passphrase given:', JSON.stringify(connection.passphrases));
		for (const frame of view.stdout.frames) for (const secret of ['Sekr', 'leakA', 'leakB', '[31m']) expect(frame).not.toContain(secret);
	});
});
