import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {defaultRelayLimits, type RelayLimits} from '../source/relay/relay-options.js';

/** The limits table of PROTOCOL.md section 6: names to the defaults it states. */
function documentedLimits(): Map<string, number> {
	const markdown = readFileSync(join(import.meta.dirname, '..', 'PROTOCOL.md'), 'utf8');
	const section = markdown.slice(markdown.indexOf('\n## 6. Limits\n'), markdown.indexOf('\n## 7.'));
	const limits = new Map<string, number>();
	for (const line of section.split('\n')) {
		const cells = /^\| ((?:`\w+`(?:, )?)+) \| ([\d,]+(?:, [\d,]+)*)(?: \([^)]*\))? \|/.exec(line);
		if (!cells) continue;
		const names = [...cells[1]!.matchAll(/`(\w+)`/g)].map(match => match[1]!);
		const values = cells[2]!.split(', ').map(value => Number(value.replaceAll(',', '')));
		names.forEach((name, index) => limits.set(name, values[index]!));
	}
	return limits;
}

describe('PROTOCOL.md section 6 states the relay\'s defaults', () => {
	it('every relay limit is in the table, with the default the relay uses', () => {
		const documented = documentedLimits();
		for (const [name, value] of Object.entries(defaultRelayLimits)) {
			expect(documented.get(name), name).toBe(value as RelayLimits[keyof RelayLimits]);
		}
	});
});
