// A person's client for the benchmarks: ChatClient, end to end, its files on disk.
import {once} from 'node:events';
import {join} from 'node:path';
import {ChatClient} from '../dist/client/chat-client.js';

const carriedOver = new WeakMap();

/**
 * Resolves, once the client has looked up the contacts it pinned under an older version that its
 * first welcome did not list, with how many names it looked up.
 */
export async function whenLookupsDone(client) {
	const [carried] = await carriedOver.get(client);
	if (!carried.complete) throw new Error(`the relay refused some lookups: ${carried.found} of ${carried.names} found`);
	return carried.names;
}

/**
 * Logs `username` in to `relay` ({port, fingerprint}) with its files in `place` (its database
 * encrypted with `passphrase` when given); resolves with the client and its welcome, which comes
 * once every directory page has arrived and been pinned.
 */
export async function personClient(relay, username, place, {passphrase} = {}) {
	const client = new ChatClient({
		...(passphrase === undefined ? {} : {passphrase}),
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: join(place, 'known_relays.json'),
		dataDir: place,
		trustFingerprint: relay.fingerprint,
		reconnect: false,
	});
	const asked = once(client, 'login-request');
	client.connect();
	await asked;
	const welcomed = once(client, 'welcome');
	// Told once per run, after the first welcome, even when nothing was carried over.
	carriedOver.set(client, once(client, 'carried-over'));
	client.login(username);
	const [welcome] = await welcomed;
	return {client, welcome};
}
