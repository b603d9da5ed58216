// Part 2 of bench/rooms.mjs: room deliveries through a relay process. A room of 100 members filled
// into the relay's database (rooms-fixture.mjs), every member logged in: a few senders in this
// process, the readers in two child processes (rooms-members.mjs), each of which reads and acks
// every item. The senders send N room messages, each keeping at most `window` of its own not yet
// read by everyone (room_delivered), so the room's backlog stays bounded whatever the pace.
import {mkdtempSync} from 'node:fs';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {encodeRoomText} from '../dist/client/rooms/room-payload.js';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {chainStep} from '../dist/crypto/room-epoch.js';
import {sealRoomMessage} from '../dist/crypto/room-message.js';
import {round} from './measure.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';
import {benchRoom, fillRelay, portable, room} from './rooms-fixture.mjs';
import {startMembers} from './rooms-members.mjs';
import {now, RoomPeer, Tally} from './rooms-peer.mjs';

/** A relay process over a fresh database holding `fixture`'s room (removed again by stop()). */
export async function filledRelay(fixture, limits) {
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-rooms-relay-'));
	fillRelay(dataDir, fixture);
	return startRelayProcess({limits, presence: true, dataDir});
}

/** `people` logged in from `count` child processes, split evenly; mark/expect/status over all of them. */
export async function memberGroups(port, people, count = 2) {
	const children = [];
	try {
		for (let index = 0; index < count; index++) children.push(await startMembers());
		await Promise.all(children.map((child, index) => child.call('login', {port, people: people.filter((_, at) => at % count === index).map(portable)})));
	} catch (error) {
		await Promise.all(children.map(child => child.stop()));
		throw error;
	}
	const all = (type, args) => Promise.all(children.map(child => child.call(type, args)));
	return {
		pids: children.map(child => child.pid),
		mark: () => all('mark'),
		/** The time the last member here got its last expected item. */
		expect: async counts => Math.max(...(await all('expect', counts)).map(result => result.at)),
		/** CPU of the child processes together (µs) and refusals their members were sent. */
		async status() {
			const results = await all('status');
			return {cpu: results.reduce((sum, result) => sum + result.cpu, 0), errors: results.reduce((sum, result) => sum + result.errors, 0), closed: results.reduce((sum, result) => sum + result.closed, 0)};
		},
		stop: () => Promise.all(children.map(child => child.stop())),
	};
}

export const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

/** A room_send's body and signature as a client seals a text of 100 characters. */
function sampleMessage(sender, epoch) {
	const {messageKey} = chainStep(Buffer.alloc(32, 3));
	const sealed = sealRoomMessage({room, epoch, sender: sender.name, n: 0, id: 'sample', messageKey, plaintext: encodeRoomText('x'.repeat(100), Date.now()), identityPrivate: sender.keys.identity.privateKey});
	return {body: sealed.body, signature: toBase64Url(sealed.signature)};
}

/** `peer` sends `count` room messages, at most `window` not yet read by all; resolves once all are, with how many were refused (and sent again). */
function sendAll(peer, count, {epoch, body, signature, window}) {
	return new Promise(resolve => {
		let sent = 0;
		let done = 0;
		let refused = 0;
		const unread = new Set();
		const message = (id, n) => ({type: 'room_send', room, id, epoch, n, body, signature});
		const pump = () => {
			while (sent < count && sent - done < window) {
				const id = `${peer.name}-${sent}`;
				unread.add(id);
				peer.send(message(id, sent));
				sent += 1;
			}
			if (done === count) resolve({refused});
		};
		peer.onOther = reply => {
			if (reply.type === 'room_delivered' && reply.delivered >= reply.of && unread.delete(reply.id)) {
				done += 1;
				pump();
			} else if (reply.type === 'error' && unread.has(reply.ref)) {
				refused += 1;
				setTimeout(() => peer.send(message(reply.ref, 0)), 20);
			}
		};
		pump();
	});
}

/** Rows of part 2: `messages` room messages from `senders` senders into a room of `size`. */
export async function deliveryRows({size = 100, messages, senders = 4, window = 250}) {
	if (messages % senders !== 0) throw new RangeError('the messages are shared evenly between the senders');
	const fixture = benchRoom(size);
	const sending = [fixture.alice, fixture.owner, fixture.bob, ...fixture.others].slice(0, senders);
	const readers = fixture.people.filter(someone => !sending.includes(someone));
	const load = loadavg()[0];
	const relay = await filledRelay(fixture, liftedLimits);
	let groups;
	let peers = [];
	try {
		groups = await memberGroups(relay.port, readers);
		peers = await Promise.all(sending.map(someone => RoomPeer.connect(relay.port, someone)));
		const tally = new Tally(peers);
		const epoch = fixture.log.state.head;
		const sample = sampleMessage(fixture.alice, epoch);
		await pause(500);
		await groups.mark();
		tally.mark();
		const share = messages / senders;
		const before = {relay: await relay.cpu(), members: (await groups.status()).cpu, here: process.cpuUsage()};
		const start = now();
		const arrived = Promise.all([groups.expect({messages}), tally.expect({messages: messages - share})]);
		const outcomes = await Promise.all(peers.map(peer => sendAll(peer, share, {epoch: toBase64Url(epoch), ...sample, window})));
		const last = Math.max(...(await arrived));
		const relayCpu = (await relay.cpu()) - before.relay;
		const status = await groups.status();
		const here = process.cpuUsage(before.here);
		const deliveries = messages * (size - 1);
		const seconds = (last - start) / 1000;
		const refused = outcomes.reduce((sum, outcome) => sum + outcome.refused, 0);
		const label = `relay, a room of ${size}`;
		const who = `${messages.toLocaleString('en-US')} room messages (a 100-character text, body ${sample.body.length} characters) from ${senders} senders, each keeping at most ${window} of its own not yet read by everyone; ${deliveries.toLocaleString('en-US')} deliveries (every other member gets each); relay process with lifted limits, transport encryption on; the ${senders} senders in the benchmark's process, the ${readers.length} readers in 2 child processes (${Math.ceil(readers.length / 2)} each), every member acks once per turn of its event loop; load average ${load.toFixed(1)} before`;
		return [
			{
				benchmark: label,
				metric: 'deliveries per second',
				value: Math.round(deliveries / seconds),
				unit: '/s',
				note: `${who}: ${round(seconds, 2)} s from the first room_send to the last member's last item; ${refused} sends refused (sent again)`,
			},
			{
				benchmark: label,
				metric: 'relay CPU per delivery',
				value: round(relayCpu / deliveries, 2),
				unit: 'µs CPU',
				note: `the relay process's CPU (user + system) from the first send until every message was read by all (acks, room_delivered counts and deletions included): ${round(relayCpu / 1000)} ms; ${round(relayCpu / 1e6 / seconds * 100)}% of one core over the run; readers' processes ${round((status.cpu - before.members) / deliveries, 2)} µs per delivery, senders' ${round((here.user + here.system) / deliveries, 2)} µs (2 shared cores)${status.errors + status.closed > 0 ? `; members refused ${status.errors}, closed ${status.closed}` : ''}`,
			},
		];
	} finally {
		for (const peer of peers) peer.close();
		await groups?.stop();
		await relay.stop();
	}
}
