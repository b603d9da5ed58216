// Small timing helpers shared by the benchmarks.
import {performance} from 'node:perf_hooks';

/** Runs `operation` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export function opsPerSecond(operation, {ms = 1500, warmup = 200} = {}) {
	const warmEnd = performance.now() + warmup;
	while (performance.now() < warmEnd) operation();
	let count = 0;
	const start = performance.now();
	let now = start;
	while (now - start < ms) {
		for (let i = 0; i < 100; i++) operation();
		count += 100;
		now = performance.now();
	}
	return (count * 1000) / (now - start);
}

export function percentile(sorted, p) {
	if (sorted.length === 0) return Number.NaN;
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index];
}

export function printTable(rows, keys = ['benchmark', 'metric', 'value', 'unit', 'note']) {
	const widths = keys.map(key => Math.max(key.length, ...rows.map(row => String(row[key] ?? '').length)));
	const line = values => '| ' + values.map((value, index) => String(value).padEnd(widths[index])).join(' | ') + ' |';
	console.log(line(keys));
	console.log('| ' + widths.map(width => '-'.repeat(width)).join(' | ') + ' |');
	for (const row of rows) console.log(line(keys.map(key => row[key] ?? '')));
}

export function round(value, digits = 0) {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}
