import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('names registered and never used again lapse (issue 11)', () => {
	it('after registrationLapseMs a name used once is deleted with what waits for it; a name used twice, or that wrote, stays', async () => {
		const dataDir = tempDir();
		const clock = {now: Date.parse('2026-12-01T00:00:00Z')};
		const limits = {registrationLapseMs: 60_000};
		const first = await relayForTest({dataDir, limits, clock: () => clock.now});
		const keeperKeys = generateIdentity();
		for (const name of ['drifter', 'visitor']) (await loggedInPeer(first.port, name)).close();
		(await loggedInPeer(first.port, 'keeper', {keys: keeperKeys})).close();
		await expect.poll(() => first.onlineUsernames()).toEqual([]);
		// keeper logs in a second time; alice, new, writes to drifter
		(await loggedInPeer(first.port, 'keeper', {keys: keeperKeys})).close();
		const alice = await loggedInPeer(first.port, 'alice');
		alice.send(opaqueSend('for-drifter', 'drifter'));
		await alice.until(message => message.type === 'accepted');
		alice.close();
		// a message to oneself is no use of the account
		const selfie = await loggedInPeer(first.port, 'selfie', {roster: false});
		selfie.send(opaqueSend('to-me', 'selfie'));
		await selfie.until(message => message.type === 'accepted');
		selfie.close();
		await expect.poll(() => first.onlineUsernames()).toEqual([]);
		await first.close();

		clock.now += 61_000;
		const second = await relayForTest({dataDir, limits, clock: () => clock.now});
		// drifter, visitor and selfie were never used again: gone; keeper logged in again, alice wrote: they stay
		expect(second.stats()).toMatchObject({lapsedRegistrations: 3, registeredUsers: 2});
		// the name is free again, for new keys; what waited for the old drifter is gone with it
		const newDrifter = await loggedInPeer(second.port, 'drifter');
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(newDrifter.messages().filter(message => message.type === 'message')).toEqual([]);
		await (await loggedInPeer(second.port, 'keeper', {keys: keeperKeys})).until(message => message.type === 'welcome');
	});
});
