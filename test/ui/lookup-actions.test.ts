import {describe, expect, test} from 'vitest';
import {createChatState} from '../../source/hooks/chat-state/reducer.js';
import type {ChatAction} from '../../source/hooks/chat-state/types.js';
import {lookupActions, maxPendingOpens, pendingOpenExpiryMs} from '../../source/hooks/lookup-actions.js';
import {FakeConnection} from './fake-connection.js';

describe('lookups waiting to open a conversation', () => {
	test(`at most ${maxPendingOpens} wait at once; one the relay has not answered for a minute gives its place up`, () => {
		const connection = new FakeConnection();
		const notes: string[] = [];
		let time = 1_000_000;
		const actions = lookupActions({
			connection,
			state: () => createChatState({status: 'online', username: 'me1'}),
			dispatch: (action: ChatAction) => {
				if (action.type === 'local') notes.push(action.text);
			},
			now: () => time,
			sendTo: () => true,
		});
		for (let index = 0; index < maxPendingOpens; index++) actions.openConversation(`p${index}`);
		actions.openConversation('late');
		expect(connection.lookups).toHaveLength(maxPendingOpens);
		expect(notes.at(-1)).toBe(`${maxPendingOpens} people are being looked up already; try again once they are found.`);

		time += pendingOpenExpiryMs - 1;
		actions.openConversation('late');
		expect(connection.lookups).toHaveLength(maxPendingOpens);

		time += 1;
		actions.openConversation('late');
		expect(connection.lookups.at(-1)).toEqual(['late']);
		// The answer to a lookup given up on opens nothing.
		actions.found({id: 'lookup1', reason: 'user', users: [], missing: ['p0']});
		expect(notes.at(-1)).toBe('Looking up late on the relay…');
	});
});
