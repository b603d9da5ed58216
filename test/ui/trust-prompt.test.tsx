import React from 'react';
import {renderWithKeys as render} from '../helpers/render-keyed.js';
import {describe, expect, test, vi} from 'vitest';
import {RelayChanged, TrustPrompt} from '../../source/components/trust-prompt.js';
import {ready} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

const fingerprint = '0123456789abcdef'.repeat(4);
const pinned = 'fedcba9876543210'.repeat(4);
const relay = {host: '127.0.0.1', port: 7000, fingerprint};

describe('TrustPrompt', () => {
	test('shows host:port and the fingerprint in groups of four', () => {
		const {lastFrame} = render(<TrustPrompt relay={relay} onDecide={vi.fn()} />);
		const frame = lastFrame() ?? '';
		expect(frame).toContain('The relay at 127.0.0.1:7000 is not known yet.');
		expect(frame).toContain('0123 4567 89ab cdef 0123 4567 89ab cdef');
		expect(frame).toContain('Trust this relay? [y/n]');
	});

	test.each([
		['y', true],
		['Y', true],
		['n', false],
		['N', false],
	])('%s answers %s', async (key, trust) => {
		const onDecide = vi.fn();
		const view = render(<TrustPrompt relay={relay} onDecide={onDecide} delayMs={0} />);
		await ready(view);
		view.stdin.write(key);
		await waitFor(() => expect(onDecide).toHaveBeenCalledWith(trust));
	});

	test('a key typed just as the question appears is not an answer', async () => {
		const onDecide = vi.fn();
		const view = render(<TrustPrompt relay={relay} onDecide={onDecide} delayMs={300} />);
		await ready(view);
		view.stdin.write('y');
		await new Promise(resolve => {
			setTimeout(resolve, 350);
		});
		expect(onDecide).not.toHaveBeenCalled();
		view.stdin.write('n');
		await waitFor(() => expect(onDecide).toHaveBeenCalledWith(false));
	});

	test('other keys do not answer', async () => {
		const onDecide = vi.fn();
		const view = render(<TrustPrompt relay={relay} onDecide={onDecide} delayMs={0} />);
		await ready(view);
		view.stdin.write('x');
		view.stdin.write('\r');
		view.stdin.write('n');
		await waitFor(() => expect(onDecide).toHaveBeenCalled());
		expect(onDecide.mock.calls).toEqual([[false]]);
	});

	test('an IPv6 host is shown the way known_relays.json names it', () => {
		const {lastFrame} = render(<TrustPrompt relay={{...relay, host: '::1'}} onDecide={vi.fn()} />);
		expect(lastFrame()).toContain('[::1]:7000');
	});
});

describe('RelayChanged', () => {
	test('warns loudly, shows both fingerprints and how to remove the pin', () => {
		const {lastFrame} = render(
			<RelayChanged relay={relay} pinnedFingerprint={pinned} knownRelaysPath="/home/u/.config/im-tui/known_relays.json" onExit={vi.fn()} />,
		);
		const frame = lastFrame() ?? '';
		expect(frame).toContain("WARNING: THE RELAY'S KEY HAS CHANGED");
		expect(frame).toContain('fedc ba98 7654 3210 fedc ba98 7654 3210');
		expect(frame).toContain('0123 4567 89ab cdef 0123 4567 89ab cdef');
		expect(frame).toContain('remove the "127.0.0.1:7000" entry from');
		expect(frame).toContain('/home/u/.config/im-tui/known_relays.json');
		expect(frame).toContain('Press any key to exit.');
	});

	test.each([['q'], ['y'], ['\r'], ['\u0003']])('key %j exits', async key => {
		const onExit = vi.fn();
		const view = render(<RelayChanged relay={relay} pinnedFingerprint={pinned} knownRelaysPath="/k.json" onExit={onExit} delayMs={0} />);
		await ready(view);
		view.stdin.write(key);
		await waitFor(() => expect(onExit).toHaveBeenCalled());
	});
});
