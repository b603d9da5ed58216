// Part 3 of bench/rooms.mjs: what a membership change (a removal: a fresh epoch) costs at each room
// size, on the clients (rooms-change-client.mjs) and on the relay (rooms-change-relay.mjs), and
// whether the relay takes it with its default limits.
import {loadavg} from 'node:os';
import {percentile, round} from './measure.mjs';
import {clientRemovals} from './rooms-change-client.mjs';
import {relayRemovals} from './rooms-change-relay.mjs';

const defaultBurst = 200;
const defaultPerSecond = 100;

const median = values => percentile([...values].sort((a, b) => a - b), 50);
const most = values => Math.max(...values);
const ms = us => round(us / 1000, 1);
const count = value => value.toLocaleString('en-US');

/** A row of CPU (median over the rounds) with the wall time's median and worst. */
function cpuRow(benchmark, metric, samples, note) {
	return {benchmark, metric, value: ms(median(samples.map(sample => sample.cpu))), unit: 'ms CPU', 'wall p50': ms(median(samples.map(sample => sample.wall))), 'wall worst': ms(most(samples.map(sample => sample.wall))), note};
}

/** Rows of part 3: `rounds` removals at each size; the default-limits run makes one. */
export async function changeRows({sizes, rounds}) {
	const rows = [];
	for (const size of sizes) {
		const load = loadavg()[0];
		const client = clientRemovals(size, rounds);
		const lifted = await relayRemovals(size, client.keys);
		const defaults = await relayRemovals(size, client.keys.slice(0, 1), {limits: {}, online: false});
		const {phases} = client;
		const keys = client.recipients;
		const clientLabel = `removal, clients, ${count(size)} members`;
		const relayLabel = `removal, relay, ${count(size)} members`;
		const per = `median of ${rounds} removals (others[0], others[1], … in turn; wall: median and worst)`;
		const perKey = round(median(phases.seal.map(sample => sample.cpu)) / keys, 1);
		rows.push(
			cpuRow(clientLabel, 'admin: RoomKeeper.prepare', phases.prepare, `${per}; a fresh secret, the entry signed, applyChange on the room's state (the signature checked); load average ${load.toFixed(1)} before`),
			cpuRow(
				clientLabel,
				`admin: seal ${count(keys)} room keys`,
				phases.seal,
				`EndToEnd.sealRoomKey for each remaining member (all but the author and the removed) in an established 1:1 session (a real account database holding ${count(size - 1)} confirmed sessions, the others held as crypto alone), one commit each as ChangeSender seals them: ${perKey} µs CPU a key; the sessions took ${round(client.setup.wall / 1e6, 1)} s to set up, not counted`,
			),
			{
				benchmark: clientLabel,
				metric: 'bytes staged (sent)',
				value: Math.round(median(client.staged)),
				unit: 'bytes',
				note: `${Math.ceil(keys / 200)} room_stage messages of ≤ 200 sealed keys and the room_change, as JSON: ${Math.round(median(client.staged) / keys)} bytes a key (ratchet header ${client.keys[0][0].ratchet.length} and body ${client.keys[0][0].body.length} characters)`,
			},
			cpuRow(
				clientLabel,
				'member: RoomKeeper.applyChange',
				phases.member,
				`bob applies the removal with the secret from his key (its ratchet open not counted, about 25 µs): entry verified, the confirm checked, ${count(size - 1)} sender chains derived (one HMAC each) and stored, the state saved, one commit; the author's own apply (secret kept since prepare): ${ms(median(phases.author.map(sample => sample.cpu)))} ms CPU`,
			),
		);
		const taken = lifted.rounds.filter(result => result.answer.type === 'room_changed');
		const refusals = lifted.rounds.filter(result => result.answer.type !== 'room_changed').map(result => result.answer.code);
		rows.push({
			benchmark: relayLabel,
			metric: `room_stage ×${lifted.rounds[0].messages - 1} + room_change, members online`,
			value: ms(median(taken.map(result => result.relayCpu))),
			unit: 'ms CPU',
			'wall p50': round(median(taken.map(result => result.lastMs)), 1),
			'wall worst': round(most(taken.map(result => result.lastMs)), 1),
			note: `relay process (lifted limits), ${per}: its CPU from the first room_stage until the members' acks settled (300 ms after the last copy arrived), ${ms(median(taken.map(result => result.changedCpu)))} ms of it by room_changed (staged, checked, committed, a copy with its key queued to each of the ${count(size - 1)} members online); wall time to the last member's copy (to room_changed: ${round(median(taken.map(result => result.changedMs)), 1)} ms); members in 2 child processes${refusals.length > 0 ? `; REFUSED: ${refusals.join(', ')}` : ''}${lifted.memberErrors + lifted.closed > 0 ? `; members refused ${lifted.memberErrors}, closed ${lifted.closed}` : ''}`,
		});
		const run = defaults.rounds[0];
		const accepted = run.answer.type === 'room_changed';
		rows.push(
			{
				benchmark: relayLabel,
				metric: 'bytes stored for it',
				value: run.stored?.item ?? 'n/a',
				unit: 'bytes',
				note: run.stored
					? `the change's item as the relay counts it against its author's quota until every member read it: the item (entry ${run.stored.entry} bytes of JSON) and ${count(run.stored.keys)} key rows of ${count(run.stored.keyBytes)} bytes (read back from the relay's database before anyone read them)`
					: 'the change was refused',
			},
			{
				benchmark: relayLabel,
				metric: 'default limits: tokens charged',
				value: run.tokens,
				unit: 'tokens',
				target: `≤ ${defaultBurst} (burst)`,
				met: accepted && run.tokens <= defaultBurst ? 'yes' : 'NO',
				note: `a relay process with its default limits (rateBurst ${defaultBurst}, ${defaultPerSecond} per second), only the author logged in: ${accepted ? 'accepted' : `REFUSED (${run.answer.code}: ${run.answer.message})`}; ${run.messages - 1} room_stage (1 token per 16 keys + 1 per 4,096 bytes of sealed keys) + 1 room_change: ${round((run.tokens / defaultBurst) * 100)}% of the burst, refilled in ${round(run.tokens / defaultPerSecond, 1)} s; relay CPU ${ms(run.relayCpu)} ms, ${round(run.changedMs, 1)} ms to room_changed with nobody else online`,
			},
		);
	}
	return rows;
}
