// Attacks of `npm run bench:abuse` on the relay's connections: bytes trickled one at a time,
// registrations as fast as the relay answers, hostile first frames, handshakes thrown away, and
// slots held without logging in. The shape of an attack is described in abuse-attacks-messages.mjs.
import {performance} from 'node:perf_hooks';
import {protocolDefaults} from '../dist/net/limits.js';
import {closedOrDone, keepBusy} from './abuse-pace.mjs';
import {freshIdentity, loggedInConnection, randomUsername, sleep, Tally} from './abuse-wire.mjs';

const perAddress = 20;
const range = length => Array.from({length}, (_, index) => index);
const thousands = value => Math.round(value).toLocaleString('en-US');
/** Loops per address for the attacks that wait on each answer: 20 from one address, 200 in flight in all. */
const loopsPerAddress = ctx => Math.min(perAddress, Math.max(4, Math.floor(200 / ctx.addresses.length)));

export const trickle = {
	unit: 'bytes',
	stated: ctx => `${ctx.addresses.length * perAddress} conn × 1 byte per 1-2 ms ≈ ${thousands(ctx.addresses.length * perAddress * 667)} B/s (half before the handshake)`,
	run(ctx) {
		// One 1 ms timer for every connection: each writes its next byte once due and once the last left.
		const active = new Set();
		const timer = setInterval(() => {
			const now = performance.now();
			for (const entry of active) {
				if (entry.due > now || entry.connection.backlog > 0) continue;
				entry.connection.write(entry.next());
				entry.due = now + 1 + Math.random();
				ctx.tally.add('units');
			}
		}, 1);
		ctx.cleanups.push(() => clearInterval(timer));
		for (const address of ctx.addresses) {
			for (const index of range(perAddress)) {
				const beforeHandshake = index % 2 === 0;
				void keepBusy(
					ctx,
					async () => {
						const connection = ctx.open(address);
						if (!(await connection.connected)) return;
						let next;
						if (beforeHandshake) {
							// The start of a client_hello, then its ephemeral key forever: never a line feed.
							const prefix = '{"type":"client_hello","version":1,"ephemeral":"';
							let sent = 0;
							next = () => (sent < prefix.length ? prefix[sent++] : 'A');
						} else {
							if (!(await connection.handshake())) return;
							ctx.tally.add('handshakes');
							next = () => 'g';
						}
						const entry = {connection, next, due: 0};
						active.add(entry);
						await closedOrDone(ctx, connection);
						active.delete(entry);
					},
					100,
				);
			}
		}
	},
};

export const registerFlood = {
	unit: 'registrations tried',
	stated: ctx => `as fast as answered, ${loopsPerAddress(ctx) * ctx.addresses.length} in flight (${loopsPerAddress(ctx)} per address), roster on`,
	run(ctx) {
		for (const address of ctx.addresses) {
			for (const _ of range(loopsPerAddress(ctx))) {
				void keepBusy(ctx, async () => {
					const prepared = freshIdentity(randomUsername('reg'));
					ctx.tally.add('units');
					// A real client's login (with the directory), closed as soon as the welcome comes.
					const connection = await loggedInConnection(ctx, address, prepared, {roster: true});
					if (connection) {
						ctx.tally.add('welcome');
						connection.close();
					} else await sleep(20);
				});
			}
		}
	},
};

/** `[[[[…]]]]` filling a whole frame (maxFrameBytes), then the line feed. */
const nestedFrame = Buffer.from('['.repeat(protocolDefaults.maxFrameBytes / 2) + ']'.repeat(protocolDefaults.maxFrameBytes / 2) + '\n');

export const nestedHello = {
	unit: 'connections',
	stated: ctx => `as fast as answered, ${loopsPerAddress(ctx) * ctx.addresses.length} in flight, each one 256 KiB frame nested ${thousands(nestedFrame.length / 2)} deep`,
	run(ctx) {
		for (const address of ctx.addresses) {
			for (const _ of range(loopsPerAddress(ctx))) {
				void keepBusy(ctx, async () => {
					const connection = ctx.open(address);
					if (!(await connection.connected)) {
						await sleep(100);
						return;
					}
					connection.write(nestedFrame);
					ctx.tally.add('units');
					const answered = await Promise.race([connection.ended.then(() => true), sleep(5000).then(() => false)]);
					if (!answered) {
						ctx.tally.add('no answer in 5 s');
						connection.close();
					}
				});
			}
		}
	},
};

export const handshakeFlood = {
	unit: 'handshakes',
	stated: ctx => `as fast as answered, ${loopsPerAddress(ctx) * ctx.addresses.length} in flight (${loopsPerAddress(ctx)} per address)`,
	run(ctx) {
		for (const address of ctx.addresses) {
			for (const _ of range(loopsPerAddress(ctx))) {
				void keepBusy(ctx, async () => {
					const connection = ctx.open(address);
					ctx.tally.add('connections tried');
					const done = (await connection.connected) && (await connection.handshake());
					connection.close();
					if (done) ctx.tally.add('units');
					else await sleep(50);
				});
			}
		}
	},
};

export const slotHold = {
	unit: 'connections tried',
	stated: ctx => `${ctx.addresses.length} × ${perAddress + 5} connections held idle after the handshake; a newcomer every 2 s`,
	run(ctx) {
		// Every connection that got through the handshake; those not closed yet are held.
		const held = new Set();
		ctx.held = () => [...held].filter(connection => !connection.closed).length;
		for (const address of ctx.addresses) {
			for (const _ of range(perAddress + 5)) {
				void keepBusy(
					ctx,
					async () => {
						const connection = ctx.open(address);
						ctx.tally.add('units');
						if (!(await connection.connected) || !(await connection.handshake())) return;
						held.add(connection);
						await closedOrDone(ctx, connection);
					},
					1000,
				);
			}
		}
		const fiveSeconds = setTimeout(() => {
			ctx.notes.heldAfter5s = ctx.held();
		}, 5000);
		ctx.cleanups.push(() => clearTimeout(fiveSeconds));
		// Someone new from another address tries to log in every 2 s while the slots are held.
		const newcomer = new Tally();
		ctx.newcomer = newcomer;
		void keepBusy(
			ctx,
			async () => {
				newcomer.add('tries');
				const connection = await loggedInConnection(ctx, '127.0.0.1', freshIdentity(randomUsername('new')), {timeoutMs: 5000, tally: newcomer});
				if (connection) {
					newcomer.add('logged in');
					connection.close();
				}
			},
			2000,
		);
	},
	atDeadline(ctx) {
		ctx.notes.heldAtEnd = ctx.held();
		ctx.notes.heldAfter5s ??= ctx.notes.heldAtEnd;
		ctx.notes.newcomer = `${ctx.newcomer.get('logged in')} / ${ctx.newcomer.get('tries')} logged in`;
		if (ctx.newcomer.refused.size > 0) ctx.notes.newcomerRefused = Object.fromEntries(ctx.newcomer.refused);
	},
};
