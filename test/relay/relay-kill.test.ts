import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import {meet, next, onlineClient} from '../helpers/chat.js';
import {spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

/** How many times the relay is killed: a few in CI, many in a benchmark-length run. */
const rounds = Number.parseInt(process.env.IM_TUI_KILL_ROUNDS ?? '3', 10);
/** Messages each side gets accepted on every relay before it is killed. */
const perRound = Number.parseInt(process.env.IM_TUI_KILL_MESSAGES ?? '150', 10);
/** Messages each side keeps unanswered (sent, not yet accepted) while the relay is up. */
const window = 16;
/** Messages each side types while the relay is down. */
const typedOffline = 3;

const reconnect = {initialDelayMs: 20, maxDelayMs: 250};

/**
 * One side of the conversation: keeps `window` messages in flight, numbered in order, and types a
 * few more while disconnected. Records what it sent, what the relay accepted and what it received.
 */
function talk(client: ChatClient, to: string) {
	const me = client.username!;
	const sent: string[] = [];
	const open = new Set<string>();
	const accepted = new Set<string>();
	const received: Array<{id: string; n: number}> = [];
	let stopped = false;
	const say = () => {
		const id = client.send(to, `${me} ${sent.length}`);
		sent.push(id);
		open.add(id);
	};

	const fill = () => {
		while (!stopped && client.status === 'online' && open.size < window) say();
	};

	client.on('accepted', ({id}) => {
		if (!open.delete(id)) return; // a receipt, or an answer to a resend
		accepted.add(id);
		fill();
	});
	client.on('welcome', fill);
	client.on('reconnecting', ({attempt}) => {
		if (attempt !== 1 || stopped) return;
		for (let typed = 0; typed < typedOffline; typed++) say();
	});
	client.on('message', message => {
		received.push({id: message.id, n: Number(message.text.split(' ')[1])});
	});
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

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
	await expect.poll(condition, {timeout: timeoutMs, interval: 5, message: what}).toBe(true);
}

describe('the relay killed with SIGKILL in the middle of traffic', () => {
	it(`loses no accepted message and shows none twice, ${rounds} rounds`, {timeout: 60_000 + rounds * 20_000}, async () => {
		const dataDir = join(tempDir(), 'relay');
		let relay: RelayProcess = await spawnRelay(['--data-dir', dataDir]);
		const {port} = relay;
		try {
			const alice = await onlineClient(relay, 'alice', {reconnect});
			const bob = await onlineClient(relay, 'bob', {reconnect});
			await meet(alice, bob);
			const clients = [alice, bob];
			const gaps = clients.map(client => {
				const seen: unknown[] = [];
				client.on('gap', gap => seen.push(gap));
				return seen;
			});
			const replays = clients.map(client => {
				let count = 0;
				client.on('rejected', ({code}) => {
					if (code === 'replay') count++;
					else throw new Error(`unexpected rejection: ${code}`);
				});
				return () => count;
			});
			// The relay's default rate limit stays on: what it drops unprocessed is sent again, unchanged.
			const rateLimited = clients.map(client => {
				let count = 0;
				client.on('relay-error', ({code}) => {
					if (code === 'rate_limited') count++;
					else throw new Error(`unexpected relay error: ${code}`);
				});
				return () => count;
			});
			const a = talk(alice, 'bob');
			const b = talk(bob, 'alice');
			const stats: Array<{round: number; acceptedBeforeKill: number; unansweredAtKill: number; backMs: number}> = [];
			let passed = 0;

			for (let round = 1; round <= rounds; round++) {
				const [aStart, bStart] = [a.accepted.size, b.accepted.size];
				await until(() => a.accepted.size >= aStart + perRound && b.accepted.size >= bStart + perRound, `traffic in round ${round}`);
				const back = Promise.all(clients.map(async client => next(client, 'welcome', 30_000)));
				const acceptedBeforeKill = [new Set(a.accepted), new Set(b.accepted)] as const;
				const unansweredAtKill = a.sent.length - a.accepted.size + b.sent.length - b.accepted.size;
				relay.child.kill('SIGKILL');
				const killedAt = Date.now();
				await relay.exited;
				relay = await spawnRelay(['--data-dir', dataDir, '--port', String(port)]);
				expect(relay.port).toBe(port);
				await back;
				const backMs = Date.now() - killedAt;
				// Everything accepted before the kill arrives (the relay committed it before saying so).
				const lost = () => [
					[...acceptedBeforeKill[0]].filter(id => !b.received.some(message => message.id === id)).length,
					[...acceptedBeforeKill[1]].filter(id => !a.received.some(message => message.id === id)).length,
				];
				await until(() => lost().every(count => count === 0), `messages accepted before kill ${round} arrive`);
				stats.push({round, acceptedBeforeKill: acceptedBeforeKill[0].size + acceptedBeforeKill[1].size, unansweredAtKill, backMs});
				passed = round;
			}

			a.stop();
			b.stop();
			// Every message sent (accepted before a kill or not, typed offline or not) arrives exactly once, in order.
			await until(() => b.received.length >= a.sent.length && a.received.length >= b.sent.length, 'the last messages arrive');
			await until(() => a.sent.length + b.sent.length === a.accepted.size + b.accepted.size, 'the last answers arrive');
			for (const [side, other] of [
				[a, b],
				[b, a],
			] as const) {
				expect(other.received.map(message => message.id)).toEqual(side.sent);
				expect(other.received.map(message => message.n)).toEqual(side.sent.map((_, index) => index));
			}

			expect(gaps).toEqual([[], []]);
			expect(passed).toBe(rounds);
			const total = a.sent.length + b.sent.length;
			console.log(
				JSON.stringify({
					kill_rounds_passed: passed,
					messages: total,
					typed_offline: 2 * rounds * typedOffline,
					replays_dropped: replays.map(count => count()),
					rate_limited: rateLimited.map(count => count()),
					gaps: 0,
					median_back_ms: stats.map(stat => stat.backMs).sort((x, y) => x - y)[Math.floor(stats.length / 2)],
					max_back_ms: Math.max(...stats.map(stat => stat.backMs)),
					unanswered_at_kill: stats.map(stat => stat.unansweredAtKill),
				}),
			);
			await Promise.all(clients.map(async client => client.close()));
		} finally {
			relay.child.kill('SIGTERM');
			await relay.exited;
		}
	});
});
