import React from 'react';
import {Text} from 'ink';
import {describe, expect, test} from 'vitest';
import {useKeyErrors, useKeys} from '../../source/hooks/use-keys.js';
import type {Key} from '../../source/terminal/keys.js';
import {renderWithKeys} from '../helpers/render-keyed.js';
import {ready} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

function Recorder({keys, errors, explode}: {keys: Key[]; errors: unknown[]; explode?: boolean}) {
	useKeys(key => {
		if (explode && key.type === 'text' && key.text === '!') throw new Error('boom');
		keys.push(key);
	});
	useKeyErrors(error => errors.push(error));
	return <Text>ready</Text>;
}

function setup(explode = false) {
	const keys: Key[] = [];
	const errors: unknown[] = [];
	const view = renderWithKeys(<Recorder keys={keys} errors={errors} explode={explode} />);
	return {view, keys, errors};
}

describe('the keyboard', () => {
	test('a lone ESC becomes Escape after a short silence, not before', async () => {
		const {view, keys} = setup();
		await ready(view);
		view.stdin.write('\u001B');
		expect(keys).toEqual([]);
		await waitFor(() => expect(keys).toEqual([{type: 'key', name: 'escape', ctrl: false, alt: false, shift: false}]));
	});

	test('an escape sequence cut by a silence is dropped; the keys after it come through', async () => {
		const {view, keys} = setup();
		await ready(view);
		view.stdin.write('\u001B[1;');
		await new Promise(resolve => {
			setTimeout(resolve, 120);
		});
		view.stdin.write('x');
		await waitFor(() => expect(keys).toEqual([{type: 'text', text: 'x'}]));
	});

	test('a paste whose end marker never comes ends after a second of silence, whole', async () => {
		const {view, keys} = setup();
		await ready(view);
		view.stdin.write('\u001B[200~one\rtwo');
		await new Promise(resolve => {
			setTimeout(resolve, 300);
		});
		expect(keys).toEqual([]);
		await waitFor(() => expect(keys).toEqual([{type: 'paste', text: 'one\rtwo', truncated: false}]), {timeoutMs: 3000});
		view.stdin.write('y');
		await waitFor(() => expect(keys.at(-1)).toEqual({type: 'text', text: 'y'}));
	});

	test('UTF-8 cut between two reads is one character', async () => {
		const {view, keys} = setup();
		await ready(view);
		const bytes = Buffer.from('世界', 'utf8');
		// ink-testing-library's stdin passes on whatever it is given, bytes included.
		const write = view.stdin.write as (data: string | Buffer) => void;
		write(bytes.subarray(0, 2));
		write(bytes.subarray(2));
		await waitFor(() => expect(keys.map(key => (key.type === 'text' ? key.text : '')).join('')).toBe('世界'));
	});

	test('a key handler that throws loses that key only, and is reported', async () => {
		const {view, keys, errors} = setup(true);
		await ready(view);
		view.stdin.write('a');
		view.stdin.write('!');
		view.stdin.write('b');
		await waitFor(() => expect(keys).toEqual([{type: 'text', text: 'a'}, {type: 'text', text: 'b'}]));
		expect(errors).toHaveLength(1);
	});
});
