// `npm run bench:abuse`: what one abusive user costs a public relay and the people on it. Each
// attack runs for IM_TUI_ABUSE_SECONDS (default 30) from one source address and from 50, each
// time against a fresh relay with its default limits, pinned alone to CPU 0; the attackers and a
// bystander (a logged-in user pinging the relay every 50 ms) run in one child process on CPU 1.
// IM_TUI_ABUSE_ONLY=ack-flood,trickle picks attacks. Prints a markdown table and writes the same
// rows to bench/abuse-results.json.
import {fork} from 'node:child_process';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {fileURLToPath} from 'node:url';
import {attacks} from './abuse-attacks.mjs';
import {cpuMicros, databaseBytes, peakSampler, pin, residentBytes, usableCpus} from './abuse-proc.mjs';
import {formatTable} from './abuse-table.mjs';
import {startRelayProcess} from './relay-process.mjs';

const seconds = Number(process.env.IM_TUI_ABUSE_SECONDS ?? 30);
const only = (process.env.IM_TUI_ABUSE_ONLY ?? '').split(',').map(name => name.trim()).filter(Boolean);
const unknown = only.filter(name => !(name in attacks));
if (!(seconds > 0) || unknown.length > 0) {
	console.error(unknown.length > 0 ? `unknown attack(s): ${unknown.join(', ')}; known: ${Object.keys(attacks).join(', ')}` : 'IM_TUI_ABUSE_SECONDS must be a positive number');
	process.exit(2);
}
const names = only.length > 0 ? only : Object.keys(attacks);
const childScript = fileURLToPath(new URL('./abuse-child.mjs', import.meta.url));

const envShown = Object.entries(process.env)
	.filter(([name]) => name.startsWith('IM_TUI_ABUSE_'))
	.map(([name, value]) => `${name}=${value} `)
	.join('');
const command = `${envShown}${process.env.npm_lifecycle_event === 'bench:abuse' ? 'npm run bench:abuse' : 'node bench/abuse.mjs'}`;
const pinning = usableCpus() >= 2;
console.log(`$ ${command}\n`);
console.log(
	pinning
		? 'Relay pinned alone to CPU 0 (taskset -a -pc 0); attackers, bystander and this process on CPU 1.'
		: 'Only one CPU: nothing pinned; the relay, the attackers and the bystander share it.',
);

// Children are ended with the bench, however it ends, and a killed relay's data directory removed.
const children = new Set();
const dataDirs = new Set();
const endChildren = () => {
	for (const child of children) child.kill('SIGKILL');
	for (const dataDir of dataDirs) rmSync(dataDir, {recursive: true, force: true});
};
process.on('exit', endChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		endChildren();
		process.exit(130);
	});
}
if (pinning) pin(process.pid, 1);

/** One attack from `sources` addresses against a fresh relay; resolves with its row. */
async function runOnce(attack, sources) {
	// Other work on the machine shows here: the relay's CPU is pinned, not reserved.
	const row = {attack, sources, loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')};
	const relay = await startRelayProcess({limits: {}, presence: true}, {tuning: []});
	dataDirs.add(relay.dataDir);
	if (pinning) row.pinned = pin(relay.pid, 0);
	const rss = peakSampler(() => residentBytes(relay.pid));
	const child = fork(childScript, [], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	children.add(child);
	const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve(`the attackers' process exited (${code ?? signal})`)));
	let timeout;
	try {
		const result = await new Promise((resolve, reject) => {
			const measures = {};
			child.on('message', message => {
				if (message?.type === 'hello') {
					if (pinning) pin(child.pid, 1);
					child.send({type: 'run', attack, port: relay.port, sources, seconds});
				} else if (message?.type === 'phase' && message.phase === 'start') {
					measures.cpu = cpuMicros(relay.pid);
					measures.database = databaseBytes(relay.dataDir);
					measures.rss = residentBytes(relay.pid);
				} else if (message?.type === 'phase' && message.phase === 'end') {
					row.relayCpuMicros = (cpuMicros(relay.pid) ?? Number.NaN) - measures.cpu;
					row.databaseGrowthBytes = databaseBytes(relay.dataDir) - measures.database;
					row.rssAtStartBytes = measures.rss;
					row.relayAlive = residentBytes(relay.pid) !== undefined;
					child.send({type: 'measured'});
				} else if (message?.type === 'result') resolve(message);
			});
			void exited.then(reason => reject(new Error(reason)));
			timeout = setTimeout(() => reject(new Error('no result in time')), seconds * 1000 + 180_000);
		});
		const {type, ...fields} = result;
		Object.assign(row, fields);
	} catch (error) {
		row.error = String(error?.message ?? error);
	} finally {
		clearTimeout(timeout);
		rss.stop();
		row.rssPeakBytes = rss.peak;
		child.kill('SIGKILL');
		children.delete(child);
		await relay.stop();
		// A relay too busy to stop within 10 s is killed before it removes its data directory.
		rmSync(relay.dataDir, {recursive: true, force: true});
		dataDirs.delete(relay.dataDir);
	}
	return row;
}

const rows = [];
for (const attack of names) {
	for (const sources of attack === 'idle' ? [1] : [1, 50]) {
		const started = Date.now();
		const row = await runOnce(attack, sources);
		rows.push(row);
		console.error(`${attack} from ${sources}: ${row.error ?? 'done'} (${((Date.now() - started) / 1000).toFixed(1)} s, load average before ${row.loadAverage})`);
	}
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`\n${machine}; ${seconds} s per run; relay defaults (rate 100/s, burst 200; 20 connections per address, 1,000 in all)\n`);
console.log(formatTable(rows));
writeFileSync(
	new URL('./abuse-results.json', import.meta.url),
	JSON.stringify({command, machine, date: new Date().toISOString(), seconds, pinned: pinning, rows}, null, 2) + '\n',
);
