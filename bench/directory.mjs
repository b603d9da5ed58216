// `npm run bench:directory`: what a login and a lookup cost as the registry grows (issue 12), and a
// person's client's first login with 5,000 contacts carried over from an older version.
// IM_TUI_BENCH_QUICK=1 for a short run (100,000 users at most); IM_TUI_BENCH_ONLY=registry or
// contacts for one half.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {BenchClient, prepareIdentity} from './bench-client.mjs';
import {fillRegistry} from './fill-registry.mjs';
import {percentile, printTable, round} from './measure.mjs';
import {carriedOverContacts} from './person-contacts.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
const sizes = quick ? [10, 10_000, 100_000] : [10, 10_000, 1_000_000];
const contactCount = 20;
const logins = quick ? 50 : 300;
const lookups = quick ? 50 : 300;
// Lookups are lifted too (liftedLimits): one person asks far more than a person would, to time them.
const limits = liftedLimits;

/** Resolves with the next relay message of `type` the client gets (a `found`, an `online`). */
function next(client, type) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no ${type} within 30 s`)), 30_000);
		client.onOther = message => {
			if (message.type !== type) return;
			clearTimeout(timer);
			resolve(message);
		};
	});
}

async function registry(size) {
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-directory-'));
	const fillStart = performance.now();
	fillRegistry(dataDir, size);
	const fillMs = performance.now() - fillStart;
	const startAt = performance.now();
	const relay = await startRelayProcess({limits, presence: true, dataDir});
	const startMs = performance.now() - startAt;
	try {
		const person = prepareIdentity('person');
		// The first login registers the name; a lookup makes 20 contacts, as a person's would be.
		const first = await BenchClient.connect(relay.port, 'person', {identity: person, timeoutMs: 30_000});
		const found = next(first, 'found');
		first.send({type: 'lookup', id: 'q0', names: Array.from({length: contactCount}, (_, index) => `user${index % size}`)});
		await found;
		first.close();

		const cpuBefore = await relay.cpu();
		const times = [];
		let bytes = 0;
		let records = 0;
		for (let round = 0; round < logins; round++) {
			const start = performance.now();
			const client = await BenchClient.connect(relay.port, 'person', {identity: person, timeoutMs: 30_000});
			times.push(performance.now() - start);
			bytes = client.socket.bytesRead;
			records = client.directoryAnnounced;
			client.close();
		}
		const loginCpu = ((await relay.cpu()) - cpuBefore) / logins;
		const afterLogins = await relay.memory();

		// Lookups of 100 names, half registered and half not, on one connection, one at a time.
		const asker = await BenchClient.connect(relay.port, 'person', {identity: person, timeoutMs: 30_000});
		const lookupTimes = [];
		const lookupCpuBefore = await relay.cpu();
		for (let round = 0; round < lookups; round++) {
			const names = Array.from({length: 100}, (_, index) => (index % 2 === 0 ? `user${(round * 50 + index) % size}` : `nobody${round}x${index}`));
			const start = performance.now();
			const answered = next(asker, 'found');
			asker.send({type: 'lookup', id: `q${round + 1}`, names});
			await answered;
			lookupTimes.push(performance.now() - start);
		}
		const lookupCpu = ((await relay.cpu()) - lookupCpuBefore) / lookups;
		asker.close();
		const memory = await relay.memory();
		times.sort((a, b) => a - b);
		lookupTimes.sort((a, b) => a - b);
		const label = `${size.toLocaleString('en-US')} registered`;
		return [
			{benchmark: label, metric: 'login p50', value: round(percentile(times, 50), 2), unit: 'ms', note: `${logins} logins of one user with ${records} contacts in its welcome (community relay: everyone under 100 users)`},
			{benchmark: label, metric: 'login p99', value: round(percentile(times, 99), 2), unit: 'ms', note: 'connect to welcome, handshake and login proof included'},
			{benchmark: label, metric: 'bytes at login', value: bytes, unit: 'B', note: 'everything the relay sent until the welcome: relay_hello, login_request, welcome'},
			{benchmark: label, metric: 'relay CPU per login', value: round(loginCpu), unit: 'µs', note: 'relay process, user + system'},
			{benchmark: label, metric: 'lookup of 100 p50', value: round(percentile(lookupTimes, 50), 2), unit: 'ms', note: `${lookups} lookups of 50 registered and 50 unregistered names; relay ${round(lookupCpu)} µs CPU each`},
			{benchmark: label, metric: 'relay RSS after logins', value: round(afterLogins.rss / 2 ** 20, 1), unit: 'MiB', note: `after GC; started in ${round(startMs)} ms on a database filled in ${round(fillMs)} ms`},
			{benchmark: label, metric: 'relay RSS after lookups', value: round(memory.rss / 2 ** 20, 1), unit: 'MiB', note: `after GC; ${(lookups * 50).toLocaleString('en-US')} names found fill the relay's bounded caches of users and contacts, and SQLite's page cache (16 MiB at most)`},
		];
	} finally {
		await relay.stop();
		rmSync(dataDir, {recursive: true, force: true});
	}
}

const only = process.env.IM_TUI_BENCH_ONLY;
const rows = [];
if (only !== 'contacts') for (const size of sizes) rows.push(...(await registry(size)));
if (only !== 'registry') rows.push(...(await carriedOverContacts({registered: quick ? 100_000 : 1_000_000, contacts: 5000, limits})));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load generator on the same machine`;
console.log(`im-tui directory benchmarks (${machine})\n`);
printTable(rows);
writeFileSync('bench/directory-results.json', JSON.stringify({machine, date: new Date().toISOString(), rows}, null, 2) + '\n');
