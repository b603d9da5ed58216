// `npm run bench:rooms`: what the rooms of issue 15 cost. (1) Sending one room message: the crypto
// alone, and the client's RoomKeeper.seal with its commit, in rooms of 100 and 1,000 members.
// (2) Room deliveries through a relay process: a room of 100, every member logged in, reading and
// acking. (3) A membership change (a removal: a fresh epoch) in rooms of 100 and 1,000: the admin's
// client, a member's client, the relay with lifted and with default limits. Prints a table and
// writes bench/rooms-results.json (not committed). IM_TUI_BENCH_QUICK=1 for a smoke run (fewer
// samples, same sizes); IM_TUI_BENCH_ONLY=sender,relay,change for some parts.
import {writeFileSync} from 'node:fs';
import {cpus, loadavg, totalmem} from 'node:os';
import {printTable} from './measure.mjs';
import {changeRows} from './rooms-change.mjs';
import {deliveryRows} from './rooms-relay.mjs';
import {senderRows} from './rooms-sender.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
const only = new Set((process.env.IM_TUI_BENCH_ONLY ?? 'sender,relay,change').split(',').map(part => part.trim()));
const sizes = [100, 1000];

const load = loadavg()[0];
const rows = [];
if (only.has('sender')) rows.push(...senderRows(quick ? {count: 1000, warmup: 200, sizes} : {count: 10_000, warmup: 2000, sizes}));
if (only.has('relay')) rows.push(...(await deliveryRows({size: 100, messages: quick ? 400 : 4000})));
if (only.has('change')) rows.push(...(await changeRows({sizes, rounds: quick ? 2 : 5})));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`im-tui rooms benchmarks (${machine})${quick ? ', quick' : ''}; load average ${load.toFixed(1)} at the start\n`);
printTable(rows, ['benchmark', 'metric', 'value', 'unit', 'wall p50', 'wall worst', 'target', 'met', 'note']);
writeFileSync('bench/rooms-results.json', JSON.stringify({machine, date: new Date().toISOString(), quick, load, rows}, null, 2) + '\n');
