import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {AccountDatabaseError} from '../../source/client/store/account-database.js';
import {accountDirectory} from '../../source/client/store/account-paths.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {lineProcess, type LineProcess} from '../helpers/line-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {transpile} from './transpile.js';

// Real processes, as two im-tui on one account would be: the store and its imports are transpiled
// to plain JavaScript in a temp dir (Node 20 cannot run TypeScript). The first holds alice's
// account open and commits contacts, saying so on stdout after each commit; a second process,
// and this one, try to open the same account meanwhile.

/** Opens the account, commits `first` contacts, then one more per line "more" on stdin, on and on after "go"; until killed. */
const holder = `
import {writeSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {AccountStore} from './client/store/account-store.js';
import {generateIdentity, publicIdentity} from './crypto/identity.js';
const [dataDir, relay, first] = process.argv.slice(2);
const account = AccountStore.open(dataDir, relay, 'alice');
const keys = generateIdentity();
let count = 0;
const commit = () => {
	const name = 'n' + count++;
	account.contacts.observe(name, publicIdentity(keys, name));
	account.contacts.nextSendCounter(name);
	writeSync(1, 'committed ' + name + '\\n');
};
for (let index = 0; index < Number(first); index++) commit();
writeSync(1, 'holding ' + account.keys.identity.publicRaw.toString('hex') + '\\n');
createInterface({input: process.stdin}).on('line', line => {
	if (line === 'more') commit();
	if (line === 'go') setInterval(commit, 1);
});
`;

/** Tries to open the account: prints the error's name, code and message, or "opened". */
const second = `
import {AccountStore} from './client/store/account-store.js';
const [dataDir, relay] = process.argv.slice(2);
try {
	AccountStore.open(dataDir, relay, 'alice').close();
	process.stdout.write('opened');
} catch (error) {
	process.stdout.write(JSON.stringify({name: error.name, code: error.code, message: error.message}));
}
`;

function run(script: string, args: string[]): Promise<string> {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += chunk));
		child.stderr.on('data', chunk => (stderr += chunk));
		child.on('error', reject);
		child.on('close', code => (code === 0 ? resolvePromise(stdout) : reject(new Error(`process exited with ${code}: ${stderr}`))));
	});
}

/** Every file of the account's directory, with a hash of its bytes. */
function filesOf(directory: string): Record<string, string> {
	return Object.fromEntries(readdirSync(directory).map(name => [name, createHash('sha256').update(readFileSync(join(directory, name))).digest('hex')]));
}

const committed = (holding: LineProcess) => holding.lines.filter(line => line.startsWith('committed ')).map(line => line.slice('committed '.length));

describe('one account, two processes', () => {
	it('the second is refused while the first has it open, and changes nothing; once the first is killed, the account has all it committed', {timeout: 60_000}, async () => {
		const root = tempDir();
		const build = join(root, 'build');
		transpile(['client/store/account-store.ts', 'crypto/identity.ts'], build);
		writeFileSync(join(build, 'holder.js'), holder);
		writeFileSync(join(build, 'second.js'), second);
		const dataDir = join(root, 'data');
		const relay = fingerprint(generateRawKeyPair('ed25519').publicRaw);
		const directory = accountDirectory(dataDir, relay, 'alice');

		const first = lineProcess(join(build, 'holder.js'), [dataDir, relay, '20']);
		try {
			await expect.poll(() => first.lines.some(line => line.startsWith('holding ')), {timeout: 15_000}).toBe(true);
			const keys = first.lines.find(line => line.startsWith('holding '))!.slice('holding '.length);
			const before = filesOf(directory);

			// Another process: a clear error, at once, that says what to do.
			const refused = JSON.parse(await run(join(build, 'second.js'), [dataDir, relay]));
			expect(refused).toEqual({name: 'AccountDatabaseError', code: 'account_in_use', message: expect.stringMatching(/another im-tui is using this account .*quit it first/)});
			// This process too: the lock is per open, not per process.
			let error: unknown;
			try {
				AccountStore.open(dataDir, relay, 'alice').close();
			} catch (caught) {
				error = caught;
			}
			expect(error).toBeInstanceOf(AccountDatabaseError);
			expect(error).toMatchObject({code: 'account_in_use'});
			// Nothing was written by either, and the first goes on as if nothing happened.
			expect(filesOf(directory)).toEqual(before);
			first.child.stdin!.write('more\n');
			await expect.poll(() => committed(first)).toHaveLength(21);

			// The first commits as fast as it can, and is killed mid-stream.
			first.child.stdin!.write('go\n');
			await expect.poll(() => committed(first).length, {timeout: 15_000}).toBeGreaterThan(100);
			first.child.kill('SIGKILL');
			await first.exited;

			const account = AccountStore.open(dataDir, relay, 'alice');
			try {
				expect(account.keys.identity.publicRaw.toString('hex')).toBe(keys);
				const said = committed(first);
				const names = account.contacts.names();
				// Everything it said it committed; at most the one whose commit it did not get to report.
				expect(names).toEqual(expect.arrayContaining(said));
				expect(names.length - said.length).toBeLessThanOrEqual(1);
				for (const name of names) expect(account.contacts.get(name), name).toMatchObject({sendCounter: 1});
			} finally {
				account.close();
			}
		} finally {
			first.child.kill('SIGKILL');
		}
	});
});
