// The markdown table of `npm run bench:abuse`, one row per attack and source count, in the style
// of BENCHMARKS.md.
const mib = bytes => (bytes / 2 ** 20).toFixed(1);
const ms = value => (Number.isFinite(value) ? value.toFixed(1) : '-');
const thousands = value => Math.round(value).toLocaleString('en-US');
const perUnit = (micros, units) => (units > 0 && Number.isFinite(micros) ? (micros / units < 10 ? (micros / units).toFixed(2) : thousands(micros / units)) : '-');
const escape = text => String(text).replaceAll('|', '\\|');

/** "rate_limited 1,200, flooding 3": the codes the relay answered with, most first. */
function refusals(refused = {}) {
	const entries = Object.entries(refused).sort((a, b) => b[1] - a[1]);
	return entries.length === 0 ? 'none' : entries.map(([code, count]) => `${code} ${thousands(count)}`).join(', ');
}

/** What the attack got done besides its units, and what it noted. */
function notes(row) {
	const parts = [];
	for (const [name, count] of Object.entries(row.counts ?? {})) if (name !== 'units') parts.push(`${name} ${thousands(count)}`);
	for (const [name, value] of Object.entries(row.notes ?? {})) parts.push(`${name} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
	if (row.databaseGrowthBytes > 0) parts.push(`database +${mib(row.databaseGrowthBytes)} MiB`);
	if (row.ping?.unanswered > 0) parts.push(`${row.ping.unanswered} pings unanswered at the end`);
	if (row.relayAlive === false) parts.push('THE RELAY DIED');
	if (row.pinned === false) parts.push('taskset failed');
	return parts.join('; ');
}

function cells(row) {
	if (row.error && row.units === undefined) return [row.attack, row.sources, '-', '-', '-', '-', mib(row.rssPeakBytes ?? 0), '-', '-', `error: ${row.error}`];
	const rate = row.seconds > 0 ? ` (${thousands(row.units / row.seconds)}/s)` : '';
	const ping = row.ping?.type === 'report' ? `${ms(row.ping.p50)} / ${ms(row.ping.p99)} / ${ms(row.ping.max)}` : `- (${row.ping?.message ?? 'no report'})`;
	const connected = row.ping?.type === 'report' ? (row.ping.disconnected ? `**dropped** (${row.ping.error ?? 'closed'})` : 'connected') : '-';
	return [
		row.attack,
		row.sources,
		row.stated,
		row.unit === '-' ? '-' : `${thousands(row.units)} ${row.unit}${rate}`,
		refusals(row.refused),
		ping,
		mib(row.rssPeakBytes ?? 0),
		`${perUnit(row.relayCpuMicros, row.units)} / ${perUnit(row.attackerCpuMicros, row.units)}`,
		connected,
		notes(row) + (row.error ? `; error: ${row.error}` : ''),
	];
}

export function formatTable(rows) {
	const header = ['attack', 'sources', 'attack rate (stated)', 'done', 'refused by the relay', 'bystander ping p50 / p99 / max ms', 'relay RSS peak MiB', 'relay / attacker CPU per unit µs', 'bystander', 'notes'];
	const lines = [header, header.map(() => '---'), ...rows.map(cells)];
	return lines.map(line => `| ${line.map(escape).join(' | ')} |`).join('\n');
}
