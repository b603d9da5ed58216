import {describe, expect, it} from 'vitest';
import {acceptCounter, maxMissingCounters, newCounterState, type CounterState} from '../../source/client/receive-counter.js';

type Step = [counter: number, verdict: 'new' | 'late' | 'replay', gap?: number];

function run(steps: Step[], start: CounterState = newCounterState()): CounterState {
	let state = start;
	for (const [index, [counter, verdict, gap]] of steps.entries()) {
		const result = acceptCounter(state, counter);
		expect(result.verdict, `step ${index}: counter ${counter}`).toBe(verdict);
		if (result.verdict === 'new') expect(result.gap, `step ${index}: gap`).toBe(gap ?? 0);
		if (result.verdict !== 'replay') state = result.state;
	}
	return state;
}

describe('acceptCounter', () => {
	it('accepts counters in order, with no gap', () => {
		expect(run([[0, 'new'], [1, 'new'], [2, 'new']])).toEqual({next: 3, missing: []});
	});

	it('reports a gap and remembers the skipped counters', () => {
		expect(run([[0, 'new'], [4, 'new', 3]])).toEqual({next: 5, missing: [1, 2, 3]});
		expect(run([[3, 'new', 3]])).toEqual({next: 4, missing: [0, 1, 2]});
	});

	it('accepts a skipped counter once, late, in any order', () => {
		const state = run([[0, 'new'], [4, 'new', 3], [2, 'late'], [1, 'late'], [5, 'new'], [3, 'late']]);
		expect(state).toEqual({next: 6, missing: []});
	});

	it('rejects replays of new and of late counters', () => {
		run([
			[0, 'new'],
			[0, 'replay'],
			[3, 'new', 2],
			[3, 'replay'],
			[1, 'late'],
			[1, 'replay'],
			[0, 'replay'],
			[2, 'late'],
			[2, 'replay'],
		]);
	});

	it('never mutates its input', () => {
		const state = {next: 2, missing: [0]};
		const frozen = Object.freeze({next: 2, missing: Object.freeze([0]) as number[]});
		acceptCounter(frozen, 5);
		acceptCounter(frozen, 0);
		acceptCounter(frozen, 1);
		expect(frozen).toEqual(state);
	});

	it(`caps the skipped counters at ${maxMissingCounters}, forgetting the oldest`, () => {
		const jump = acceptCounter({next: 0, missing: []}, Number.MAX_SAFE_INTEGER - 1);
		expect(jump.verdict).toBe('new');
		if (jump.verdict !== 'new') return;
		expect(jump.gap).toBe(Number.MAX_SAFE_INTEGER - 1);
		expect(jump.state.missing).toHaveLength(maxMissingCounters);
		expect(jump.state.missing[0]).toBe(Number.MAX_SAFE_INTEGER - 1 - maxMissingCounters);
		expect(jump.state.missing.at(-1)).toBe(Number.MAX_SAFE_INTEGER - 2);
		// The forgotten ones count as replays; the remembered ones are still late.
		expect(acceptCounter(jump.state, 0).verdict).toBe('replay');
		expect(acceptCounter(jump.state, Number.MAX_SAFE_INTEGER - 2).verdict).toBe('late');
	});

	it('drops the oldest skipped counters when new gaps push the total over the cap', () => {
		const first = run([[maxMissingCounters - 1, 'new', maxMissingCounters - 1]]);
		expect(first.missing).toHaveLength(maxMissingCounters - 1);
		const second = run([[maxMissingCounters + 2, 'new', 2]], first);
		expect(second.missing).toHaveLength(maxMissingCounters);
		expect(second.missing[0]).toBe(1);
		expect(second.missing.at(-1)).toBe(maxMissingCounters + 1);
		run([[0, 'replay'], [1, 'late'], [maxMissingCounters, 'late']], second);
	});

	it('handles the largest counter and then only late ones', () => {
		const state = run([[0, 'new'], [Number.MAX_SAFE_INTEGER, 'new', Number.MAX_SAFE_INTEGER - 1]]);
		expect(state.next).toBe(2 ** 53);
		run([[Number.MAX_SAFE_INTEGER, 'replay'], [Number.MAX_SAFE_INTEGER - 1, 'late']], state);
	});

	it('refuses counters that are not non-negative safe integers', () => {
		for (const counter of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
			expect(() => acceptCounter(newCounterState(), counter)).toThrow(RangeError);
		}
	});
});
