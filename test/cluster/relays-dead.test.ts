import {expect, it} from 'vitest';
import {meet, next} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {pairClient, pairHosts, relayPair} from '../helpers/relay-pair.js';

const leaseMs = 1500;

describePostgres('two relay processes on one PostgreSQL: a relay killed with SIGKILL', () => {
	const database = usePostgresDatabase();

	it('its users are shown offline within a lease and a third; its clients reconnect to the other relay and lose no accepted message', {timeout: 60_000}, async () => {
		const pair = await relayPair(database.url, leaseMs);
		try {
			// alice reaches either relay; the watcher stays on the other; carol, on alice's relay, does not come back.
			const alice = await pairClient(pair, 'alice');
			await expect.poll(() => pair.servingOf('alice')).toBeDefined();
			const dying = pair.servingOf('alice')!;
			const surviving = 1 - dying;
			const watcher = await pairClient(pair, 'watcher', {hosts: [pairHosts[surviving]!]});
			const carol = await pairClient(pair, 'carol', {hosts: [pairHosts[dying]!], reconnect: false});
			await meet(alice, watcher, carol);

			const received: string[] = [];
			watcher.on('message', message => received.push(message.id));
			const accepted = new Set<string>();
			alice.on('accepted', ({id}) => accepted.add(id));
			const sent: string[] = [];
			for (let n = 0; n < 20; n++) sent.push(alice.send('watcher', `before ${n}`));
			await expect.poll(() => accepted.size, {timeout: 10_000}).toBe(20);

			const back = next(alice, 'welcome', 20_000);
			const killedAt = Date.now();
			await pair.kill(dying);
			for (let n = 0; n < 5; n++) sent.push(alice.send('watcher', `while down ${n}`));
			await expect
				.poll(() => watcher.contacts.find(contact => contact.username === 'carol')?.online, {timeout: 3 * leaseMs, interval: 20})
				.toBe(false);
			const offlineAfterMs = Date.now() - killedAt;
			await back;
			const backAfterMs = Date.now() - killedAt;
			expect(pair.relays[surviving]!.stderr()).toContain('"event":"relay_reaped"');
			// Reaped by the lease (renewals every third): within lease + lease/3, and the presence flush and polling on top.
			expect(offlineAfterMs).toBeLessThan(leaseMs + leaseMs / 3 + 750);
			await expect.poll(() => received.length, {timeout: 15_000}).toBe(sent.length);
			expect(received).toEqual(sent);
			expect(watcher.contacts.find(contact => contact.username === 'alice')?.online).toBe(true);
			console.log(JSON.stringify({lease_ms: leaseMs, offline_after_ms: offlineAfterMs, reconnected_after_ms: backAfterMs, messages: sent.length, lost: 0}));
			await Promise.all([alice.close(), watcher.close(), carol.close()]);
		} finally {
			await pair.stop();
		}
	});
});
