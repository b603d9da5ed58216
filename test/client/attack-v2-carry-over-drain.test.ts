import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {newClient, logIn, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';

/**
 * Attack: strangers write to a victim. The relay introduces each one, but keeps only the newest
 * maxInboundContacts of them as the victim's contacts, so later welcomes do not list the others.
 * Each is a conversation in the victim's files (it received a message), so a client that carried
 * over at every start every conversation the welcome did not list would spend a lookup token per
 * evicted stranger at each start, and make each a chosen contact: strangers would then fill the
 * chosen contacts after all. The carry-over is done once per account, never again.
 */
describe('attack: conversations the relay no longer lists are not looked up at every start', () => {
	it('a restart looks up nobody: the carry-over was done once', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, maxContacts: 2, maxInboundContacts: 2}});
		const dataDir = tempDir();
		const start = async (): Promise<[ChatClient, ClientEvents['carried-over'][0]]> => {
			const client = newClient(relay, {dataDir});
			const carried = next(client, 'carried-over');
			await logIn(client, 'victim');
			return [client, (await carried)[0]];
		};
		const [victim] = await start();
		const messages = record(victim, 'message');
		for (let index = 0; index < 6; index++) {
			const stranger = await onlineClient(relay, `stranger${index}`);
			stranger.lookup(['victim']);
			await next(stranger, 'found');
			const stored = next(stranger, 'accepted');
			stranger.send('victim', `hi${index}`);
			await stored;
			await stranger.close();
		}
		// Each stranger was introduced and read: six conversations in the victim's files.
		await expect.poll(() => messages.length).toBe(6);
		await victim.close();

		const again = newClient(relay, {dataDir});
		const [welcome] = await logIn(again, 'victim');
		// The relay lists only the two newest strangers; the client still shows all six.
		expect(welcome.users.map(user => user.username)).toHaveLength(6);
		await again.close();

		const runs: number[] = [];
		for (let run = 0; run < 3; run++) {
			const [client, carried] = await start();
			runs.push(carried.names);
			await client.close();
		}
		expect(runs).toEqual([0, 0, 0]);
	});
});
