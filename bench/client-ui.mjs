// The UI's state with a relay of thousands: what the reducer and the sidebar cost a person's screen.
import {performance} from 'node:perf_hooks';
import {chatReducer, createChatState} from '../dist/hooks/chat-state/reducer.js';
import {sidebarEntries} from '../dist/hooks/chat-state/conversations.js';
import {round} from './measure.mjs';

/** Median ms of `operation` over `runs`. */
function medianMs(operation, runs) {
	const samples = [];
	for (let index = 0; index < runs; index++) {
		const start = performance.now();
		operation();
		samples.push(performance.now() - start);
	}
	return samples.sort((a, b) => a - b)[runs >> 1];
}

export function benchClientUi({users = 10_000} = {}) {
	const directory = Array.from({length: users}, (_, index) => ({username: `user${index}`, online: index % 2 === 0, verified: false, keyChanged: false}));
	const loggedIn = () => chatReducer(createChatState({status: 'online'}), {type: 'welcome', welcome: {username: 'me', users: directory, motd: null, online: [], onlineCount: users, waiting: 0}, time: 0});
	const state = loggedIn();
	const label = `UI, ${users.toLocaleString('en')} users`;
	return [
		{benchmark: label, metric: 'welcome', value: round(medianMs(loggedIn, 5), 1), unit: 'ms', note: 'the reducer taking in 10,000 contacts at login, more than a relay lists (6,000 at most) (median of 5)'},
		{benchmark: label, metric: 'sidebar rows', value: round(medianMs(() => sidebarEntries(state), 20), 1), unit: 'ms', note: 'every user sorted into the sidebar, once per render of the chat screen (median of 20)'},
	];
}
