import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {onlineClient, record, relayForTest} from '../helpers/chat.js';
import {lineProcess, type LineProcess} from '../helpers/line-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {transpile} from '../client/transpile.js';

/** How many times bob's client is killed: a few in CI, many in a benchmark-length run. */
const rounds = Number.parseInt(process.env.IM_TUI_CLIENT_KILL_ROUNDS ?? '6', 10);
/** Messages alice sends, at a steady pace, while bob's client is killed and started again. */
const messages = Number.parseInt(process.env.IM_TUI_CLIENT_KILL_MESSAGES ?? '300', 10);

// bob's client runs in a real process (our sources transpiled to JavaScript, as Node 20 cannot run
// TypeScript) and is killed with SIGKILL at random moments while alice writes to him; each of his
// processes writes what it shows to stdout, synchronously (a pipe), the moment it is shown.
const bob = `
import {writeSync} from 'node:fs';
import {ChatClient} from './client/chat-client.js';
const [port, fingerprint, knownRelaysPath, dataDir] = process.argv.slice(2);
const client = new ChatClient({host: '127.0.0.1', port: Number(port), knownRelaysPath, dataDir, trustFingerprint: fingerprint, reconnect: false});
client.on('login-request', () => client.login('bob'));
client.on('welcome', () => writeSync(1, 'welcome\\n'));
client.on('message', message => writeSync(1, 'message ' + message.id + '\\n'));
client.on('rejected', rejection => writeSync(1, 'rejected ' + rejection.code + '\\n'));
client.on('closed', reason => writeSync(1, 'closed ' + reason.code + '\\n'));
client.on('relay-error', error => writeSync(1, 'error ' + error.code + ' ' + error.message.replace(/\\n/g, ' ') + '\\n'));
client.on('local-error', error => writeSync(1, 'error local ' + error.message.replace(/\\n/g, ' ') + '\\n'));
client.connect();
`;

const shown = (bob: LineProcess) => bob.lines.filter(line => line.startsWith('message ')).map(line => line.slice('message '.length));

describe('the client killed with SIGKILL while messages arrive', () => {
	it(`shows every message, in order, and never twice in one process, ${rounds} kills`, {timeout: 60_000 + rounds * 10_000}, async () => {
		const root = tempDir();
		const build = join(root, 'build');
		transpile(['client/chat-client.ts'], build);
		const script = join(build, 'bob.js');
		writeFileSync(script, bob);
		// Room for the whole backlog, so nothing is refused with queue_full while bob is down (on a
		// loaded machine several of his processes die before they log in: seconds of alice's messages wait).
		const relay = await relayForTest({limits: {maxQueuedPerUser: 100_000, maxQueuedPerSender: 100_000}});
		const args = [String(relay.port), relay.fingerprint, join(root, 'known_relays.json'), join(root, 'bob')];
		const alice = await onlineClient(relay, 'alice');
		const delivered = record(alice, 'delivered');
		const aliceErrors = record(alice, 'relay-error');
		const aliceAccepted = record(alice, 'accepted');
		const processes: LineProcess[] = [];
		let killed = 0;

		const first = lineProcess(script, args);
		processes.push(first);
		await expect.poll(() => first.lines.includes('welcome'), {timeout: 15_000}).toBe(true);
		await expect.poll(() => alice.contacts.some(contact => contact.username === 'bob')).toBe(true);
		const sent: string[] = [];
		const writing = setInterval(() => {
			if (sent.length < messages) sent.push(alice.send('bob', `message ${sent.length}`));
			else clearInterval(writing);
		}, 8);

		try {
			for (let round = 0; round < rounds; round++) {
				const current = processes.at(-1)!;
				// Anywhere from mid start-up (catching up on the backlog) to well into live traffic.
				await new Promise(resolve => setTimeout(resolve, 100 + Math.random() * 600));
				current.child.kill('SIGKILL');
				await current.exited;
				killed++;
				processes.push(lineProcess(script, args));
			}
			await expect.poll(() => sent.length, {timeout: 30_000}).toBe(messages);
			const last = processes.at(-1)!;
			const everShown = () => new Set(processes.flatMap(bob => shown(bob)));
			const missing = () => sent.filter(id => !everShown().has(id)).length;
			await expect.poll(missing, {timeout: 60_000}).toBe(0);
			await expect.poll(() => new Set(delivered.map(([receipt]) => receipt.id)).size, {timeout: 30_000}).toBe(messages);

			expect(aliceErrors.filter(([error]) => error.code !== 'rate_limited')).toEqual([]);
			const order = new Map(sent.map((id, index) => [id, index]));
			for (const bob of processes) {
				const positions = shown(bob).map(id => order.get(id));
				// Only alice's messages, each at most once per process, in the order she sent them.
				expect(positions.every(position => position !== undefined)).toBe(true);
				expect(new Set(positions).size).toBe(positions.length);
				expect(positions).toEqual([...positions].sort((a, b) => a! - b!));
				expect(bob.lines.filter(line => line.startsWith('rejected ') && line !== 'rejected replay')).toEqual([]);
			}
			// Shown again only by the process after one that died between showing a message and its
			// next write to its account database: about one message per kill, at most.
			const times = processes.flatMap(bob => shown(bob)).length;
			expect(times - messages).toBeLessThanOrEqual(2 * killed);
			expect(last.child.exitCode).toBe(null);
			console.log(JSON.stringify({client_kills: killed, messages, shown: times, shown_again: times - messages, processes: processes.length}));
		} catch (error) {
			// What a failure needs to be understood: what is missing, and what each process said.
			const ever = new Set(processes.flatMap(bob => shown(bob)));
			const accepted = new Set(aliceAccepted.map(([ack]) => ack.id));
			const missing = sent.flatMap((id, index) => (ever.has(id) ? [] : [{index, accepted: accepted.has(id)}]));
			console.log(JSON.stringify({
				missing: missing.slice(0, 20),
				missingCount: missing.length,
				aliceErrors: aliceErrors.map(([error]) => error.code).slice(0, 20),
				processes: processes.map(bob => ({shown: shown(bob).length, said: bob.lines.filter(line => !line.startsWith('message ') && line !== 'rejected replay')})),
			}));
			throw error;
		} finally {
			clearInterval(writing);
			for (const bob of processes) bob.child.kill('SIGKILL');
			await Promise.all(processes.map(async bob => bob.exited));
		}
	});
});
