import {expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import {meet} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {pairClient, relayPair} from '../helpers/relay-pair.js';

/** How many times a relay is killed: a few in the suite, many with IM_TUI_CLUSTER_KILL_ROUNDS. */
const rounds = Number.parseInt(process.env.IM_TUI_CLUSTER_KILL_ROUNDS ?? '4', 10);
/** Messages each side gets accepted between kills. */
const perRound = Number.parseInt(process.env.IM_TUI_CLUSTER_KILL_MESSAGES ?? '100', 10);
/** Messages each side keeps unanswered while connected. */
const window = 16;
const leaseMs = 1500;

/** One side of the conversation: `window` messages in flight, numbered in order; records what was sent, accepted and received. */
function talk(client: ChatClient, to: string) {
	const me = client.username!;
	const sent: string[] = [];
	const open = new Set<string>();
	const accepted = new Set<string>();
	const received: string[] = [];
	let stopped = false;
	const fill = () => {
		while (!stopped && client.status === 'online' && open.size < window) {
			const id = client.send(to, `${me} ${sent.length}`);
			sent.push(id);
			open.add(id);
		}
	};
	client.on('accepted', ({id}) => {
		if (!open.delete(id)) return;
		accepted.add(id);
		fill();
	});
	client.on('welcome', fill);
	client.on('message', message => received.push(message.id));
	fill();
	return {
		sent,
		accepted,
		received,
		stop() {
			stopped = true;
		},
	};
}

describePostgres('two relays on one PostgreSQL, one of them killed with SIGKILL each round in the middle of traffic', () => {
	const database = usePostgresDatabase();

	it(`loses no accepted message and shows none twice, ${rounds} rounds`, {timeout: 60_000 + rounds * 30_000}, async () => {
		const pair = await relayPair(database.url, leaseMs);
		try {
			const alice = await pairClient(pair, 'alice');
			const bob = await pairClient(pair, 'bob');
			await meet(alice, bob);
			const clients = [alice, bob];
			const a = talk(alice, 'bob');
			const b = talk(bob, 'alice');
			const stats: Array<{round: number; killed: number; backMs: number}> = [];
			for (let round = 1; round <= rounds; round++) {
				const [aStart, bStart] = [a.accepted.size, b.accepted.size];
				await expect
					.poll(() => a.accepted.size >= aStart + perRound && b.accepted.size >= bStart + perRound, {timeout: 30_000, interval: 5})
					.toBe(true);
				const acceptedBeforeKill = [new Set(a.accepted), new Set(b.accepted)] as const;
				const killed = round % 2;
				const killedAt = Date.now();
				await pair.kill(killed);
				await pair.restart(killed);
				await expect.poll(() => clients.every(client => client.status === 'online'), {timeout: 20_000, interval: 5}).toBe(true);
				const lost = () => [
					[...acceptedBeforeKill[0]].filter(id => !b.received.includes(id)).length,
					[...acceptedBeforeKill[1]].filter(id => !a.received.includes(id)).length,
				];
				await expect.poll(() => lost().every(count => count === 0), {timeout: 20_000, interval: 10}).toBe(true);
				stats.push({round, killed, backMs: Date.now() - killedAt});
			}
			a.stop();
			b.stop();
			await expect
				.poll(() => b.received.length >= a.sent.length && a.received.length >= b.sent.length, {timeout: 30_000, interval: 10})
				.toBe(true);
			const duplicated = a.received.length - new Set(a.received).size + (b.received.length - new Set(b.received).size);
			const lost = a.sent.filter(id => !b.received.includes(id)).length + b.sent.filter(id => !a.received.includes(id)).length;
			console.log(
				JSON.stringify({
					rounds,
					messages: a.sent.length + b.sent.length,
					lost,
					duplicated,
					back_ms: stats.map(stat => stat.backMs),
				}),
			);
			expect(lost).toBe(0);
			expect(duplicated).toBe(0);
			expect(b.received).toEqual(a.sent);
			expect(a.received).toEqual(b.sent);
			await Promise.all(clients.map(async client => client.close()));
		} finally {
			await pair.stop();
		}
	});
});
