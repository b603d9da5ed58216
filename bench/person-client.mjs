// A person's client for the benchmarks: ChatClient, end to end, its files on disk.
import {once} from 'node:events';
import {join} from 'node:path';
import {ChatClient} from '../dist/client/chat-client.js';

/**
 * Logs `username` in to `relay` ({port, fingerprint}) with its files in `place`; resolves with the
 * client and its welcome, which comes once every directory page has arrived and been pinned.
 */
export async function personClient(relay, username, place) {
	const client = new ChatClient({
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
	client.login(username);
	const [welcome] = await welcomed;
	return {client, welcome};
}
