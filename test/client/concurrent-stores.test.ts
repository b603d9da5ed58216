import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contactsPath, ContactStore} from '../../source/client/contact-store.js';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {tempDir} from '../helpers/temp-dir.js';
import {transpile} from './transpile.js';

// Real processes, so writes truly interleave: the stores and their imports are transpiled to
// plain JavaScript in a temp dir (Node 20 cannot run TypeScript), then several copies of a small
// script hammer one account's files while this process keeps reading them.

const worker = `
import {ContactStore, contactsPath} from './client/contact-store.js';
import {loadOrCreateIdentity} from './client/identity-store.js';
import {generateIdentity, publicIdentity} from './crypto/identity.js';
const [dataDir, relay, id, rounds] = process.argv.slice(2);
const identity = loadOrCreateIdentity(dataDir, relay, 'alice');
const store = new ContactStore(contactsPath(dataDir, relay, 'alice'));
const keys = generateIdentity();
for (let round = 0; round < Number(rounds); round++) {
	const name = 'w' + id + 'n' + round;
	store.observe(name, publicIdentity(keys, name));
	store.nextSendCounter(name);
	store.receive(name, round);
}
process.stdout.write(identity.identity.publicRaw.toString('hex'));
`;

function run(script: string, args: string[]): Promise<string> {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += chunk));
		child.stderr.on('data', chunk => (stderr += chunk));
		child.on('error', reject);
		child.on('close', code => (code === 0 ? resolvePromise(stdout) : reject(new Error(`worker exited with ${code}: ${stderr}`))));
	});
}

describe('stores shared by concurrent processes', () => {
	it('agree on one identity, never leave a partial contacts or pins file and lose no change', async () => {
		const root = tempDir();
		const build = join(root, 'build');
		transpile(['client/contact-store.ts', 'client/identity-store.ts'], build);
		const script = join(build, 'worker.js');
		writeFileSync(script, worker);
		const dataDir = join(root, 'data');
		const relay = fingerprint(generateRawKeyPair('ed25519').publicRaw);
		const path = contactsPath(dataDir, relay, 'alice');

		let finished = false;
		let reads = 0;
		const problems: string[] = [];
		const reader = (async () => {
			while (!finished) {
				if (existsSync(path)) {
					try {
						JSON.parse(readFileSync(path, 'utf8'));
						JSON.parse(readFileSync(join(dirname(path), 'pins.json'), 'utf8'));
						new ContactStore(path);
						reads++;
					} catch (error) {
						if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push((error as Error).message);
					}
				}
				await new Promise(resolveTick => setImmediate(resolveTick));
			}
		})();
		const workers = 4;
		const rounds = 25;
		const identities = await Promise.all(Array.from({length: workers}, (_, id) => run(script, [dataDir, relay, String(id), String(rounds)])));
		finished = true;
		await reader;

		expect(problems).toEqual([]);
		expect(reads).toBeGreaterThan(0);
		expect(new Set(identities).size).toBe(1);
		expect(identities[0]).toMatch(/^[0-9a-f]{64}$/);
		const store = new ContactStore(path);
		// The lock loses no change: every contact, counter and receive state is there.
		const expected = Array.from({length: workers}, (_, id) => Array.from({length: rounds}, (_, round) => `w${id}n${round}`)).flat();
		expect(store.names()).toEqual(expected.sort());
		for (const name of expected) {
			const round = Number(name.split('n')[1]);
			expect(store.get(name), name).toMatchObject({sendCounter: 1, receive: {next: round + 1}});
		}
		expect(readdirSync(dirname(path)).sort()).toEqual(['contacts.json', 'identity.json', 'pins.json']);
	}, 60_000);
});
