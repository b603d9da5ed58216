import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {shortFingerprint, StatusLine} from '../../source/components/status-line.js';
import type {ClientStatus} from '../../source/client/client-events.js';

const fingerprint = '0123456789abcdef'.repeat(4);
const relay = {host: 'chat.example', port: 7000, fingerprint};

describe('StatusLine', () => {
	test('shortens a fingerprint to its first four groups', () => {
		expect(shortFingerprint(fingerprint)).toBe('0123 4567 89ab cdef');
	});

	test.each([
		['connecting', '[connecting]'],
		['verifying', '[verifying relay]'],
		['login', '[logging in]'],
		['online', '[online]'],
		['closed', '[closed]'],
	] as Array<[ClientStatus, string]>)('status %s', (status, label) => {
		const {lastFrame} = render(<StatusLine status={status} relay={undefined} me={undefined} notice={undefined} width={60} />);
		expect(lastFrame()).toBe(label);
	});

	test('shows the notice first, then the relay, its short fingerprint and your name', () => {
		const {lastFrame} = render(
			<StatusLine status="online" relay={relay} me="alice" notice={{tone: 'error', text: 'not sent to bob: queue full'}} width={100} />,
		);
		expect(lastFrame()).toBe('[online] not sent to bob: queue full │ chat.example:7000 0123 4567 89ab cdef │ you: alice');
	});

	test('sanitizes the notice and stays on one row of the width', () => {
		const {lastFrame} = render(
			<StatusLine status="closed" relay={relay} me="alice" notice={{tone: 'error', text: `relay says \u001B[2J\nhi ${'x'.repeat(200)}`}} width={50} />,
		);
		const frame = lastFrame() ?? '';
		expect(frame.split('\n')).toHaveLength(1);
		expect(frame.length).toBeLessThanOrEqual(50);
		expect(frame).not.toContain('\u001B');
		expect(frame.startsWith('[closed] relay says  hi xxx')).toBe(true);
	});

	test('no trailing separator without a notice', () => {
		const {lastFrame} = render(<StatusLine status="online" relay={relay} me="alice" notice={undefined} width={100} />);
		expect(lastFrame()).toBe('[online] chat.example:7000 0123 4567 89ab cdef │ you: alice');
	});

	test('a notice alone', () => {
		const {lastFrame} = render(<StatusLine status="closed" relay={undefined} me={undefined} notice={{tone: 'info', text: 'bye'}} width={100} />);
		expect(lastFrame()).toBe('[closed] bye');
	});
});
