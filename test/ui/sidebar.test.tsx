import {stripVTControlCharacters} from 'node:util';
import chalk from 'chalk';
import React from 'react';
import {render} from 'ink-testing-library';
import {afterEach, describe, expect, test} from 'vitest';
import type {SidebarEntry} from '../../source/hooks/chat-state/conversations.js';
import {everyone} from '../../source/hooks/chat-state/types.js';
import {Sidebar, visibleWindow} from '../../source/components/sidebar.js';

const entry = (key: string, fields: Partial<SidebarEntry> = {}): SidebarEntry => ({
	key,
	online: true,
	verified: false,
	keyChanged: false,
	unread: 0,
	selected: false,
	...fields,
});

function rows(frame: string | undefined): string[] {
	return stripVTControlCharacters(frame ?? '')
		.split('\n')
		.map(row => row.replace(/│\s*$/, '').trimEnd());
}

const colourLevel = chalk.level;
afterEach(() => {
	chalk.level = colourLevel;
});

describe('Sidebar', () => {
	test('# everyone first, then each user; the selected row is marked and nobody else', () => {
		const {lastFrame} = render(<Sidebar entries={[entry(everyone), entry('amy'), entry('bob', {selected: true}), entry('cy')]} width={20} height={7} />);
		expect(rows(lastFrame())).toEqual(['People', '  # everyone', '  ● amy', '› ● bob', '  ● cy', '', '']);
	});

	test('offline, verified and changed-key marks, and unread counts', () => {
		const {lastFrame} = render(
			<Sidebar
				entries={[
					entry(everyone, {unread: 2}),
					entry('amy', {unread: 3, verified: true}),
					entry('bob', {online: false}),
					entry('cy', {unread: 1200, online: false, verified: true}),
					entry('dan', {keyChanged: true, unread: 1}),
				]}
				width={24}
				height={6}
			/>,
		);
		expect(rows(lastFrame()).slice(1)).toEqual(['  # everyone (2)', '  ● amy ✓ (3)', '  ○ bob', '  ○ cy ✓ (999+)', '  ● dan ! (1)']);
	});

	test('offline users are dimmed, a changed key is red, verified is green', () => {
		chalk.level = 1;
		const {lastFrame} = render(<Sidebar entries={[entry('bob', {online: false}), entry('dan', {keyChanged: true}), entry('eve', {verified: true})]} width={20} height={4} />);
		const [, bob = '', dan = '', eve = ''] = (lastFrame() ?? '').split('\n');
		expect(bob).toContain(chalk.dim('○ bob'));
		expect(dan).toMatch(/\u001B\[31m● \u001B\[1mdan !\u001B\[39m/);
		expect(eve).toContain(chalk.green(' ✓'));
	});

	test('with only # everyone (nobody registered yet) there is still something to select', () => {
		const {lastFrame} = render(<Sidebar entries={[entry(everyone, {selected: true})]} width={20} height={4} />);
		expect(rows(lastFrame()).slice(0, 2)).toEqual(['People', '› # everyone']);
	});

	test.each([
		[30, 25, 5, {start: 23, end: 28}],
		[30, 0, 5, {start: 0, end: 5}],
		[30, 29, 5, {start: 25, end: 30}],
		[3, 2, 5, {start: 0, end: 3}],
		[30, -1, 5, {start: 0, end: 5}],
	])('visibleWindow(%i rows, selected %i, %i fit)', (count, selected, capacity, window) => {
		expect(visibleWindow(count, selected, capacity)).toEqual(window);
	});

	test('scrolls to keep the selection visible when the list is taller than the pane, and says how much is hidden', () => {
		const names = Array.from({length: 30}, (_, index) => `user${String(index).padStart(2, '0')}`);
		const entries = [entry(everyone), ...names.map(name => entry(name, {selected: name === 'user25', online: Number(name.slice(4)) % 2 === 0}))];
		const {lastFrame, rerender} = render(<Sidebar entries={entries} width={20} height={6} />);
		expect(rows(lastFrame())).toEqual(['People ↑24 ↓2', '  ○ user23', '  ● user24', '› ○ user25', '  ● user26', '  ○ user27']);

		rerender(<Sidebar entries={entries.map((item, index) => ({...item, selected: index === 0}))} width={20} height={6} />);
		expect(rows(lastFrame())).toEqual(['People ↓26', '› # everyone', '  ● user00', '  ○ user01', '  ● user02', '  ○ user03']);

		rerender(<Sidebar entries={entries.map((item, index) => ({...item, selected: index === entries.length - 1}))} width={20} height={6} />);
		expect(rows(lastFrame())).toEqual(['People ↑26', '  ○ user25', '  ● user26', '  ○ user27', '  ● user28', '› ○ user29']);
	});

	test('never prints a name that is not a valid username', () => {
		const {lastFrame} = render(<Sidebar entries={[entry('e\u001B[2Jvil', {selected: true})]} width={20} height={3} />);
		expect(lastFrame()).not.toContain('\u001B[2J');
		expect(rows(lastFrame())[1]).toBe('› ● ?');
	});

	test('a long name is cut to the width; the marks and count stay visible', () => {
		const {lastFrame} = render(<Sidebar entries={[entry('a'.repeat(32), {verified: true, keyChanged: true, unread: 4, selected: true})]} width={20} height={3} />);
		for (const row of (lastFrame() ?? '').split('\n')) expect(row.length).toBeLessThanOrEqual(20);
		expect(rows(lastFrame())[1]).toBe('› ● aaaaaa… ✓ ! (4)');
	});
});
