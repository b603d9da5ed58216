// Room members in a process of their own (a child of bench/rooms.mjs), so the members' reading does
// not share a process with the senders. It holds the connections of the members it is given; each
// reads and acknowledges every room item (rooms-peer.mjs). Requests over IPC: {id, type, ...args}
// -> {id, result} or {id, error}.
import {fork} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {person} from './rooms-fixture.mjs';
import {RoomPeer, Tally} from './rooms-peer.mjs';

const script = fileURLToPath(import.meta.url);

/** Runs task(0 .. count-1) with at most `parallel` in progress. */
export async function bounded(count, parallel, task) {
	let next = 0;
	const worker = async () => {
		while (next < count) await task(next++);
	};
	await Promise.all(Array.from({length: Math.min(parallel, count)}, worker));
}

/** The child's side. */
function serve() {
	let peers = [];
	let tally = new Tally([]);
	const handlers = {
		/** Logs in `people` ({name, seeds}), `parallel` at a time. */
		async login({port, people, parallel = 8}) {
			const joined = new Array(people.length);
			await bounded(people.length, parallel, async index => {
				joined[index] = await RoomPeer.connect(port, person(people[index].name, people[index].seeds));
			});
			peers = joined;
			tally = new Tally(peers);
			return {connected: peers.length};
		},
		mark() {
			tally.mark();
			return {};
		},
		/** Resolves once every member here got `messages` room messages and `changes` changes since the mark: the time of the last one. */
		async expect(counts) {
			return {at: await tally.expect(counts)};
		},
		/** This process's CPU time (user + system) so far, µs; refusals its members were sent. */
		status() {
			const {user, system} = process.cpuUsage();
			return {cpu: user + system, errors: peers.reduce((sum, peer) => sum + peer.errors.length, 0), closed: peers.filter(peer => peer.client.closed).length};
		},
		close() {
			for (const peer of peers) peer.close();
			peers = [];
			return {};
		},
	};
	process.on('message', async ({id, type, ...args}) => {
		try {
			process.send({id, result: await handlers[type](args)});
		} catch (error) {
			process.send({id, error: String(error?.stack ?? error)});
		}
	});
	process.on('disconnect', () => process.exit(0));
	process.send({ready: true});
}

/** The parent's side: a child process of members; call(type, args) runs one of its handlers. */
export async function startMembers() {
	const child = fork(script, ['serve'], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const exited = new Promise(resolve => child.once('exit', resolve));
	const calls = new Map();
	let nextId = 0;
	child.on('message', message => {
		const call = calls.get(message?.id);
		if (!call) return;
		calls.delete(message.id);
		if (message.error) call.reject(new Error(`room members: ${message.error}`));
		else call.resolve(message.result);
	});
	void exited.then(code => {
		for (const {reject} of calls.values()) reject(new Error(`the room members' process exited (${code})`));
		calls.clear();
	});
	await new Promise((resolve, reject) => {
		child.once('message', resolve);
		void exited.then(code => reject(new Error(`the room members' process exited before it was ready (${code})`)));
	});
	return {
		pid: child.pid,
		call(type, args = {}) {
			const id = nextId++;
			return new Promise((resolve, reject) => {
				calls.set(id, {resolve, reject});
				child.send({id, type, ...args});
			});
		},
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				child.disconnect();
				await exited;
			}
		},
	};
}

if (process.argv[2] === 'serve') serve();
