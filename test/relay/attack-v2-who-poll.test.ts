import {describe, expect, it} from 'vitest';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';

/**
 * Attack: `who` costs one message token and lists the last whoLimit logins. Asked a few times a
 * second it sees every login on the relay, so the names of everyone active come for no lookup
 * token at all (a lookup of each would cost one). Our client asks once a minute.
 *
 * The fix: an account's view is made fresh at most once per whoRefreshMs (30 s); a `who` in
 * between gets the same names. The 30 polls here all fall within one such window.
 */
describe('attack: polling who', () => {
	it('an account polling who learns no more names than whoLimit per whoRefreshMs', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, whoLimit: 5}});
		const spy = await loggedInPeer(relay.port, 'spy');
		const seen = new Set<string>();
		const started = performance.now();
		for (let index = 0; index < 30; index++) {
			(await loggedInPeer(relay.port, `active${index}`)).close();
			const from = spy.messages().length;
			spy.send({type: 'who'});
			const answer = await spy.until(message => message.type === 'online', from);
			for (const name of answer.users as string[]) seen.add(name);
		}
		console.log(`who poll: ${seen.size} names of 30 logins learnt in ${(performance.now() - started).toFixed(0)} ms, 30 message tokens, 0 lookup tokens`);
		expect(seen.size).toBeLessThanOrEqual(5);
	});
});
