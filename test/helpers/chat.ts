import {once} from 'node:events';
import {join} from 'node:path';
import {afterEach, expect} from 'vitest';
import {ChatClient, type ChatClientOptions} from '../../source/client/chat-client.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {startRelay, type RelayOptions, type RunningRelay} from '../../source/relay/server.js';
import {tempDir} from './temp-dir.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Every test client connects from 127.0.0.1, so the limits per address over time (handshakes,
 * registrations, failed logins) are lifted unless a test sets them: the tests of those limits do.
 */
export const loopbackLimits = {
	handshakeBurst: Infinity,
	handshakesPerMinute: Infinity,
	registrationBurstPerAddress: Infinity,
	registrationsPerHourPerAddress: Infinity,
	registrationBurst: Infinity,
	registrationsPerHour: Infinity,
	failedLoginBurst: Infinity,
	failedLoginsPerMinute: Infinity,
	directoryPagesBurst: Infinity,
	directoryPagesPerMinute: Infinity,
} as const;

export async function relayForTest(options: Partial<RelayOptions> = {}): Promise<RunningRelay> {
	const relay = await startRelay({host: '127.0.0.1', port: 0, dataDir: tempDir(), ...options, limits: {...loopbackLimits, ...options.limits}});
	cleanups.push(() => relay.close());
	return relay;
}

/** Resolves with the arguments of the next `event` the client emits (rejects on timeout). */
export async function next<E extends keyof ClientEvents>(
	client: ChatClient,
	event: E,
	timeoutMs = 5000,
): Promise<ClientEvents[E]> {
	const signal = AbortSignal.timeout(timeoutMs);
	return (await once(client as never, event, {signal})) as ClientEvents[E];
}

/** Where a relay listens and the key it must present: a RunningRelay, or a relay process. */
export type RelayAddress = Pick<RunningRelay, 'port' | 'fingerprint'>;

export type ClientPlace = {
	/** Known relays file; a fresh one by default. */
	knownRelaysPath?: string;
	/** Identities, pins and counters; a fresh directory (a new device) by default. */
	dataDir?: string;
	trust?: boolean;
	/** How the client reconnects after a drop; off by default here, so a test sees each connection end. */
	reconnect?: ChatClientOptions['reconnect'];
	/** How long messages are kept (`--keep-history`); forever by default. */
	retention?: ChatClientOptions['retention'];
};

export function newClient(relay: RelayAddress, options: ClientPlace = {}): ChatClient {
	const client = new ChatClient({
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: options.knownRelaysPath ?? join(tempDir(), 'known_relays.json'),
		dataDir: options.dataDir ?? tempDir(),
		trustFingerprint: options.trust === false ? undefined : relay.fingerprint,
		reconnect: options.reconnect ?? false,
		...(options.retention === undefined ? {} : {retention: options.retention}),
	});
	cleanups.push(() => client.close());
	return client;
}

/** Connects `client`, logs in as `username` and resolves with the welcome's arguments. */
export async function logIn(client: ChatClient, username: string): Promise<ClientEvents['welcome']> {
	const loginRequested = next(client, 'login-request');
	client.connect();
	await loginRequested;
	const welcomed = next(client, 'welcome');
	client.login(username);
	return welcomed;
}

/** A client that has connected, trusted the relay and logged in as `username`. */
export async function onlineClient(relay: RelayAddress, username: string, place: ClientPlace = {}): Promise<ChatClient> {
	const client = newClient(relay, place);
	await logIn(client, username);
	return client;
}

/** Collects every emission of `event` into an array, for assertions about what was (not) received. */
export function record<E extends keyof ClientEvents>(client: ChatClient, event: E): Array<ClientEvents[E]> {
	const seen: Array<ClientEvents[E]> = [];
	client.on(event, ((...args: ClientEvents[E]) => seen.push(args)) as never);
	return seen;
}

/** Waits until each client lists every other one as an online contact (user_joined crosses the relay). */
export async function meet(...clients: ChatClient[]): Promise<void> {
	const names = clients.map(client => client.username);
	await expect
		.poll(() =>
			clients.every(client =>
				names.every(name => name === client.username || client.contacts.some(contact => contact.username === name && contact.online)),
			),
		)
		.toBe(true);
}

/** Registers `username` (logs in once, then leaves) and waits until `watchers` have seen it go offline. */
export async function registerOffline(
	relay: RelayAddress,
	username: string,
	watchers: ChatClient[],
	place: ClientPlace = {},
): Promise<void> {
	const client = await onlineClient(relay, username, place);
	await meet(client, ...watchers);
	await client.close();
	await expect
		.poll(() => watchers.every(watcher => watcher.contacts.some(contact => contact.username === username && !contact.online)))
		.toBe(true);
}
