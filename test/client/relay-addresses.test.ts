import {copyFileSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {relayHosts, relayLookup} from '../../source/client/relay-addresses.js';
import {identityFileName} from '../../source/relay/identity-store.js';
import {next} from '../helpers/chat.js';
import {spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayOn(address: string, dataDir: string, port?: number): Promise<RelayProcess> {
	const relay = await spawnRelay(['--host', address, ...(port === undefined ? [] : ['--port', String(port)]), '--data-dir', dataDir]);
	cleanups.push(async () => {
		relay.child.kill('SIGKILL');
		await relay.exited;
	});
	return relay;
}

async function lookupAll(host: string): Promise<string[]> {
	return new Promise((resolve, reject) => {
		relayLookup(host, {all: true}, (error, addresses) => {
			if (error) reject(error);
			else resolve((addresses as unknown as Array<{address: string}>).map(({address}) => address));
		});
	});
}

describe('one service, several addresses: --host a,b', () => {
	it('reads a comma list, ignoring blanks; one name is a list of one', () => {
		expect(relayHosts('127.0.0.1, 127.0.0.2,,')).toEqual(['127.0.0.1', '127.0.0.2']);
		expect(relayHosts('relay.example.org')).toEqual(['relay.example.org']);
	});

	it('gives every address of every host, in a new order each time; a host that does not resolve is left out', async () => {
		const orders = new Set<string>();
		expect((await lookupAll('127.0.0.1,no-such-host.invalid')).sort()).toEqual(['127.0.0.1']);
		for (let round = 0; round < 40; round++) {
			const addresses = await lookupAll('127.0.0.1,127.0.0.2,127.0.0.3');
			expect([...addresses].sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
			orders.add(addresses.join());
		}
		expect(orders.size).toBeGreaterThan(1);
		await expect(lookupAll('no-such-host.invalid')).rejects.toMatchObject({code: 'ENOTFOUND'});
	});

	it('a client whose relay is killed reconnects to the other relay of the service, under the one pin', async () => {
		const first = tempDir();
		const a = await relayOn('127.0.0.1', join(first, 'a'));
		const second = join(first, 'b');
		mkdirSync(second, {mode: 0o700});
		copyFileSync(join(first, 'a', identityFileName), join(second, identityFileName));
		const b = await relayOn('127.0.0.2', second, a.port);
		expect(b.fingerprint).toBe(a.fingerprint);

		const knownRelaysPath = join(tempDir(), 'known_relays.json');
		const client = new ChatClient({
			host: '127.0.0.1,127.0.0.2',
			port: a.port,
			knownRelaysPath,
			dataDir: tempDir(),
			trustFingerprint: a.fingerprint,
			reconnect: {initialDelayMs: 50, maxDelayMs: 200},
		});
		cleanups.push(async () => client.close());
		const requested = next(client, 'login-request');
		client.connect();
		await requested;
		const welcomed = next(client, 'welcome');
		client.login('alice');
		await welcomed;

		const joined = (relay: RelayProcess) => relay.stdout().includes('alice') || relay.stderr().includes('"user":"alice"');
		await expect.poll(() => joined(a) || joined(b)).toBe(true);
		const [serving, other] = joined(a) ? [a, b] : [b, a];
		const back = next(client, 'welcome');
		serving.child.kill('SIGKILL');
		await back;
		expect(client.status).toBe('online');
		expect(joined(other)).toBe(true);
		// One entry: the service's name, pinned once, whichever relay answered.
		expect(Object.keys(JSON.parse(readFileSync(knownRelaysPath, 'utf8')) as object)).toHaveLength(1);
	});
});
