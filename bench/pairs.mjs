// `node bench/pairs.mjs [TREE]`: the "50 pairs" row of `npm run bench` alone (one warm-up run, one measured), to compare two builds (TREE: a checkout, built; default this one).
import {resolve} from 'node:path';
const tree = resolve(process.argv[2] ?? '.');
const {throughput, throughputRows} = await import(`${tree}/bench/relay-bench.mjs`);
const {liftedLimits, startRelayProcess} = await import(`${tree}/bench/relay-process.mjs`);
const relay = await startRelayProcess({limits: liftedLimits, presence: true});
try {
	const spec = {pairs: 50, perPair: 20_000, window: 200};
	for (let run = 0; run < 1; run++) await throughput(relay.port, spec);
	const before = await relay.cpu();
	const result = await throughput(relay.port, spec);
	const rows = throughputRows(result, '50 pairs', (await relay.cpu()) - before, '');
	for (const row of rows) console.log(row.metric, row.value, row.unit);
} finally {
	await relay.stop();
}
