// Part 1 of bench/rooms.mjs: what sending one room message costs its sender. (a) The crypto alone:
// the sender chain's step and sealRoomMessage (HKDF, Fernet, the Ed25519 signature), which take no
// member list at all; (b) the client's RoomKeeper.seal over a real account database (the chain
// read, advanced and committed with the sealed mark), in rooms of 100 and 1,000 members.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {encodeRoomText} from '../dist/client/rooms/room-payload.js';
import {chainStep} from '../dist/crypto/room-epoch.js';
import {sealRoomMessage} from '../dist/crypto/room-message.js';
import {percentile, round} from './measure.mjs';
import {benchRoom, joinedClient, person, room} from './rooms-fixture.mjs';

/** A text of 100 characters, as the other benchmarks send. */
const text = 'x'.repeat(100);
/** The most CPU one message may cost its sender (issue 15). */
const targetUs = 2000;

/**
 * Runs `step(index)` `warmup` times, then `count` times timed one by one and as a whole:
 * {cpu: µs of CPU per step (process.cpuUsage around the loop), p50, p99: µs of wall time, last}.
 */
function measure(count, warmup, step) {
	for (let index = 0; index < warmup; index++) step(index);
	const samples = [];
	let last;
	const cpu = process.cpuUsage();
	for (let index = warmup; index < warmup + count; index++) {
		const start = performance.now();
		last = step(index);
		samples.push((performance.now() - start) * 1000);
	}
	const {user, system} = process.cpuUsage(cpu);
	samples.sort((a, b) => a - b);
	return {cpu: (user + system) / count, p50: percentile(samples, 50), p99: percentile(samples, 99), last};
}

function cryptoOnly(options) {
	const alice = person('alice');
	const epoch = Buffer.alloc(32, 7);
	let chainKey = Buffer.alloc(32, 9);
	return measure(options.count, options.warmup, index => {
		const step = chainStep(chainKey);
		chainKey = step.chainKey;
		const sealed = sealRoomMessage({
			room,
			epoch,
			sender: alice.name,
			n: index,
			id: `m${index}`,
			messageKey: step.messageKey,
			plaintext: encodeRoomText(text, Date.now()),
			identityPrivate: alice.keys.identity.privateKey,
		});
		step.messageKey.fill(0);
		return sealed;
	});
}

/** alice's RoomKeeper.seal in a room of `size`; the sealed message's bytes on the wire are those of one room_send whatever the size. */
function keeperSeal(size, options) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-rooms-'));
	const fixture = benchRoom(size);
	const alice = joinedClient(fixture, fixture.alice, place);
	try {
		const result = measure(options.count, options.warmup, index => alice.keeper.seal(room, `m${index}`, text, Date.now()));
		const wire = JSON.stringify({type: 'room_send', room, id: `m${options.count + options.warmup}`, ...result.last}).length;
		return {...result, wire, chains: alice.db.prepare('select count(*) from room_chains').pluck().get()};
	} finally {
		alice.db.close();
		rmSync(place, {recursive: true, force: true});
	}
}

/** Rows of part 1: `count` messages after `warmup`, at each size. */
export function senderRows({count, warmup, sizes}) {
	const label = 'sender, one message';
	const rows = [];
	const row = (metric, result, note) => ({
		benchmark: label,
		metric,
		value: round(result.cpu, 1),
		unit: 'µs CPU',
		'wall p50': round(result.p50, 1),
		'wall worst': round(result.p99, 1),
		target: `≤ ${targetUs.toLocaleString('en-US')}`,
		met: result.cpu <= targetUs ? 'yes' : 'NO',
		note,
	});
	const crypto = cryptoOnly({count, warmup});
	rows.push(
		row(
			'crypto alone, any room size',
			crypto,
			`${count} messages of a 100-character text after ${warmup}, value: CPU per message from process.cpuUsage around the loop; wall µs per message p50 and p99: chainStep (2 HMAC) + sealRoomMessage (HKDF, Fernet, one Ed25519 signature); neither takes the member list: one encryption per message whatever the size; body ${crypto.last.body.length} characters`,
		),
	);
	for (const size of sizes) {
		const result = keeperSeal(size, {count, warmup});
		rows.push(
			row(
				`RoomKeeper.seal, ${size.toLocaleString('en-US')} members`,
				result,
				`the client's seal over a real account database (no passphrase) holding the epoch's ${result.chains.toLocaleString('en-US')} sender chains: own chain read, stepped and saved with the sealed mark, one commit; one room_send of ${result.wire} bytes goes out, the relay copies it to the ${(size - 1).toLocaleString('en-US')} others`,
			),
		);
	}
	return rows;
}
