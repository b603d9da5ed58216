import {copyFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {ChatClient} from '../../source/client/chat-client.js';
import {identityFileName} from '../../source/relay/identity-store.js';
import {next} from './chat.js';
import {spawnRelay, type RelayProcess} from './relay-process.js';
import {tempDir} from './temp-dir.js';

/** The two loopback addresses two relays of one service listen on, one port number for both. */
export const pairHosts = ['127.0.0.1', '127.0.0.2'] as const;

/**
 * Two relay processes of one service: one key (copied), one PostgreSQL store, one port number on
 * two loopback addresses, so a client given `127.0.0.1,127.0.0.2` reaches either. `restart(i)`
 * starts relay i again on its address and port (a new relay id: the dead one's lease may not have
 * run out yet).
 */
export async function relayPair(storeUrl: string, leaseMs: number) {
	const root = tempDir();
	const dirs = [join(root, 'a'), join(root, 'b')] as const;
	const args = (index: number, port?: number) => [
		'--host',
		pairHosts[index]!,
		...(port === undefined ? [] : ['--port', String(port)]),
		'--data-dir',
		dirs[index]!,
		'--store',
		storeUrl,
		'--lease-ms',
		String(leaseMs),
		'--handshake-limit',
		'off',
		'--registration-limit',
		'off',
	];
	const first = await spawnRelay(args(0));
	mkdirSync(dirs[1], {mode: 0o700});
	copyFileSync(join(dirs[0], identityFileName), join(dirs[1], identityFileName));
	const second = await spawnRelay(args(1, first.port));
	const relays: RelayProcess[] = [first, second];
	return {
		relays,
		port: first.port,
		fingerprint: first.fingerprint,
		async kill(index: number): Promise<void> {
			relays[index]!.child.kill('SIGKILL');
			await relays[index]!.exited;
		},
		async restart(index: number): Promise<RelayProcess> {
			relays[index] = await spawnRelay(args(index, first.port));
			return relays[index]!;
		},
		/** Which relay `username` is logged in on, from the relays' logs (undefined: neither says so yet). */
		servingOf(username: string): number | undefined {
			const index = relays.findIndex(relay => relay.stderr().includes(`"event":"join","user":"${username}"`));
			return index < 0 ? undefined : index;
		},
		async stop(): Promise<void> {
			for (const relay of relays) {
				relay.child.kill('SIGKILL');
				await relay.exited;
			}
		},
	};
}

/** A client of the pair: `hosts` both addresses (it reconnects to either) or one. */
export async function pairClient(
	pair: {port: number; fingerprint: string},
	username: string,
	options: {hosts?: readonly string[]; dataDir?: string; reconnect?: boolean} = {},
): Promise<ChatClient> {
	const client = new ChatClient({
		host: (options.hosts ?? pairHosts).join(','),
		port: pair.port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: options.dataDir ?? tempDir(),
		trustFingerprint: pair.fingerprint,
		reconnect: options.reconnect === false ? false : {initialDelayMs: 50, maxDelayMs: 250},
	});
	const requested = next(client, 'login-request', 10_000);
	client.connect();
	await requested;
	const welcomed = next(client, 'welcome', 10_000);
	client.login(username);
	await welcomed;
	return client;
}
