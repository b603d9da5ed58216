// A room member for the relay parts of bench/rooms.mjs: a lean logged-in connection
// (bench-client.mjs) that counts the room items it is sent and acknowledges them once per turn of
// the event loop, up to the last one it got, as a client does after handling a batch.
import {performance} from 'node:perf_hooks';
import {BenchClient} from './bench-client.mjs';

/** The same clock in every process: ms since the epoch, with µs. */
export function now() {
	return performance.timeOrigin + performance.now();
}

export class RoomPeer {
	/** Room items since the last mark(). */
	messages = 0;
	changes = 0;
	/** The last seq sent per room. */
	last = new Map();
	/** Refusals the relay sent (error messages that did not end the connection). */
	errors = [];
	/** Called with every other message (room_accepted, room_delivered, room_changed, …). */
	onOther = () => {};
	/** Called after each room item is counted. */
	onItem = () => {};
	#acking = false;

	constructor(name) {
		this.name = name;
	}

	/** `someone`: {name, keys, record} (rooms-fixture.mjs person()). Logs in headless: no directory, no presence. */
	static async connect(port, someone) {
		const peer = new RoomPeer(someone.name);
		peer.client = await BenchClient.connect(port, someone.name, {identity: {keys: someone.keys, record: someone.record}, roster: false, timeoutMs: 60_000});
		peer.client.onOther = message => peer.#message(message);
		peer.client.onError = error => {
			peer.errors.push(error);
			peer.onOther(error);
		};
		return peer;
	}

	mark() {
		this.messages = 0;
		this.changes = 0;
	}

	send(message) {
		this.client.send(message);
	}

	close() {
		this.client.close();
	}

	#message(message) {
		if (message.type !== 'room_message' && message.type !== 'room_change') {
			this.onOther(message);
			return;
		}
		if (message.type === 'room_message') this.messages += 1;
		else this.changes += 1;
		if (message.seq > (this.last.get(message.room) ?? 0)) this.last.set(message.room, message.seq);
		this.onItem(message);
		if (this.#acking) return;
		this.#acking = true;
		setImmediate(() => {
			this.#acking = false;
			for (const [room, seq] of this.last) this.client.send({type: 'room_ack', room, seq});
		});
	}
}

/**
 * Waits for a set of peers to reach counts: expect({messages, changes, skip}) resolves with the time
 * (now()) at which the last of them got its last expected item.
 */
export class Tally {
	#waiting;

	constructor(peers) {
		this.peers = peers;
		for (const peer of peers) peer.onItem = () => this.#check(peer);
	}

	mark() {
		for (const peer of this.peers) peer.mark();
	}

	/** `skip`: names of peers not waited for (no longer members). */
	expect({messages = 0, changes = 0, skip = []}) {
		return new Promise(resolve => {
			const done = new Set(this.peers.filter(peer => skip.includes(peer.name) || (peer.messages >= messages && peer.changes >= changes)));
			this.#waiting = {messages, changes, done, resolve};
			this.#finish();
		});
	}

	#check(peer) {
		const waiting = this.#waiting;
		if (waiting === undefined || waiting.done.has(peer)) return;
		if (peer.messages >= waiting.messages && peer.changes >= waiting.changes) {
			waiting.done.add(peer);
			this.#finish();
		}
	}

	#finish() {
		const waiting = this.#waiting;
		if (waiting === undefined || waiting.done.size < this.peers.length) return;
		this.#waiting = undefined;
		waiting.resolve(now());
	}
}
