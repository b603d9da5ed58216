import React from 'react';
import {renderWithKeys as render} from '../helpers/render-keyed.js';
import {describe, expect, test, vi} from 'vitest';
import {safetyRows, VerifyView} from '../../source/components/verify-view.js';
import {ready} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

const safetyNumber = '0123456789abcdef0123456789abcdef01234567';

function setup(keyChanged = false) {
	const onConfirm = vi.fn();
	const onBack = vi.fn();
	const view = render(<VerifyView verification={{username: 'bob', safetyNumber, keyChanged}} me="alice" onConfirm={onConfirm} onBack={onBack} />);
	return {...view, onConfirm, onBack};
}

describe('VerifyView', () => {
	test('groups the safety number in fours, five groups a row', () => {
		expect(safetyRows(safetyNumber)).toEqual(['0123 4567 89ab cdef 0123', '4567 89ab cdef 0123 4567']);
	});

	test('shows both usernames, the number and how to compare it out of band', () => {
		const frame = setup().lastFrame() ?? '';
		expect(frame).toContain('Verify bob');
		expect(frame).toContain('Safety number of alice and bob:');
		expect(frame).toContain('0123 4567 89ab cdef 0123');
		expect(frame).toContain('4567 89ab cdef 0123 4567');
		expect(frame).toContain('Ask bob to open /verify alice and compare this number out of band');
		expect(frame).toContain('Press y to mark bob verified; any other key goes back.');
		expect(frame).not.toContain('changed');
	});

	test('after a key change, says so and that y also accepts the new key', () => {
		const frame = setup(true).lastFrame() ?? '';
		expect(frame).toContain("bob's identity key changed: only a number that matches");
		expect(frame).toContain("Press y to accept bob's new key and mark bob verified");
	});

	test.each(['y', 'Y'])('%s confirms', async key => {
		const view = setup();
		await ready(view);
		view.stdin.write(key);
		await waitFor(() => expect(view.onConfirm).toHaveBeenCalledTimes(1));
		expect(view.onBack).not.toHaveBeenCalled();
	});

	test.each(['n', 'q', '\r', '\u001B'])('%j goes back', async key => {
		const view = setup();
		await ready(view);
		view.stdin.write(key);
		await waitFor(() => expect(view.onBack).toHaveBeenCalledTimes(1));
		expect(view.onConfirm).not.toHaveBeenCalled();
	});

	test('a hostile safety number or name cannot drive the terminal', () => {
		const view = render(
			<VerifyView verification={{username: 'e\u001B[2Jvil', safetyNumber: '\u001B[2J0123', keyChanged: false}} me="alice" onConfirm={vi.fn()} onBack={vi.fn()} />,
		);
		expect(view.lastFrame()).not.toContain('\u001B[2J');
		expect(view.lastFrame()).toContain('Verify ?');
	});
});
