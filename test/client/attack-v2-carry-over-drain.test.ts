import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {newClient, logIn, next, record, relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

/**
 * Attack: strangers write to a victim whose relay contacts are full (maxContacts, see
 * test/relay/attack-v2-contact-flood.test.ts). The relay does not introduce them, so the client
 * looks each up and pins it; the relay cannot add them as contacts, so no welcome lists them, so
 * every run of the client looks every one of them up again as a pin to "carry over": up to 5,000
 * lookup tokens, the whole burst, at each start. Shown at maxContacts 2 with 4 strangers.
 */
describe('attack: pins that never become contacts are carried over at every run', () => {
	it('a restart does not look up again the names a previous run found', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, maxContacts: 2}});
		const dataDir = tempDir();
		const start = async (): Promise<[ChatClient, ClientEvents['carried-over'][0]]> => {
			const client = newClient(relay, {dataDir});
			const carried = next(client, 'carried-over');
			await logIn(client, 'victim');
			return [client, (await carried)[0]];
		};
		let [victim] = await start();
		const found = record(victim, 'found');
		for (let index = 0; index < 6; index++) {
			const stranger = await loggedInPeer(relay.port, `stranger${index}`);
			stranger.send(opaqueSend(`hi${index}`, 'victim'));
			await stranger.until(message => message.type === 'accepted');
			stranger.close();
		}
		// strangers 0 and 1 fill the contacts; the client looks the other four up as senders
		await expect.poll(() => found.flatMap(([event]) => event.users).length).toBe(4);
		await victim.close();

		const runs: number[] = [];
		for (let run = 0; run < 3; run++) {
			const [client, carried] = await start();
			runs.push(carried.names);
			await client.close();
		}
		console.log(`carry-over: names looked up at each of three restarts: ${runs.join(', ')}`);
		expect(runs.slice(1)).toEqual([0, 0]);
	});
});
