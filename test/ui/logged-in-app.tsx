import React from 'react';
import {expect} from 'vitest';
import type {Contact} from '../../source/client/client-events.js';
import {App} from '../../source/components/app.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import type {FakeConnection} from './fake-connection.js';

/** The App logged in as me1 over `connection`, `users` its contacts, once the chat screen shows. */
export async function loggedInApp(connection: FakeConnection, users: Contact[], size?: {columns: number; rows: number}): Promise<AppView> {
	const view = renderApp(
		<App host="h" port={1} username="me1" knownRelaysPath="/nonexistent/known_relays.json" dataDir="/nonexistent" createConnection={() => connection} />,
		size,
	);
	await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
	connection.emit('status', 'online');
	connection.emit('welcome', {username: 'me1', users, motd: null, online: [], onlineCount: 1, waiting: 0});
	await waitFor(() => expect(view.lastFrame()).toContain('you: me1'));
	return view;
}
