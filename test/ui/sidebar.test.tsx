import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import type {PeerEntry} from '../../source/chat-state.js';
import {Sidebar} from '../../source/components/sidebar.js';

const entry = (name: string, fields: Partial<PeerEntry> = {}): PeerEntry => ({name, online: true, unread: 0, selected: false, ...fields});

function rows(frame: string | undefined): string[] {
	return (frame ?? '').split('\n').map(row => row.replace(/│\s*$/, '').trimEnd());
}

describe('Sidebar', () => {
	test('marks the selected person and nobody else', () => {
		const {lastFrame} = render(<Sidebar entries={[entry('amy'), entry('bob', {selected: true}), entry('cy')]} width={20} height={6} />);
		expect(rows(lastFrame())).toEqual(['People', '  amy', '› bob', '  cy', '', '']);
	});

	test('shows unread counts and marks offline people', () => {
		const {lastFrame} = render(
			<Sidebar entries={[entry('amy', {unread: 3}), entry('bob', {online: false}), entry('cy', {unread: 1200, online: false})]} width={24} height={5} />,
		);
		expect(rows(lastFrame()).slice(1, 4)).toEqual(['  amy (3)', '  bob (offline)', '  cy (offline) (999+)']);
	});

	test('says so when nobody is online', () => {
		const {lastFrame} = render(<Sidebar entries={[]} width={20} height={4} />);
		expect(lastFrame()).toContain('nobody online');
	});

	test('keeps the selected person in view when the list is longer than the height', () => {
		const names = Array.from({length: 30}, (_, index) => `user${String(index).padStart(2, '0')}`);
		const entries = names.map(name => entry(name, {selected: name === 'user25'}));
		const {lastFrame} = render(<Sidebar entries={entries} width={20} height={6} />);
		const shown = rows(lastFrame());
		expect(shown).toHaveLength(6);
		expect(shown).toContain('› user25');
	});

	test('never prints a name that is not a valid username', () => {
		const {lastFrame} = render(<Sidebar entries={[entry('e\u001B[2Jvil', {selected: true})]} width={20} height={3} />);
		expect(lastFrame()).not.toContain('\u001B[2J');
		expect(rows(lastFrame())[1]).toBe('› ?');
	});

	test('a long name is cut to the width; the offline mark and count stay visible', () => {
		const {lastFrame} = render(<Sidebar entries={[entry('a'.repeat(32), {online: false, unread: 4, selected: true})]} width={20} height={3} />);
		for (const row of (lastFrame() ?? '').split('\n')) expect(row.length).toBeLessThanOrEqual(20);
		expect(rows(lastFrame())[1]).toBe('› aa… (offline) (4)');
	});
});
