// Attacks of `npm run bench:abuse` by logged-in users: acks of numbers that are not theirs, big
// bodies for offline users and for users who do not read, and logins with a bad proof.
//
// Each attack: `unit` (what its count counts), `stated(ctx)` (what it tries to do a second),
// optional `prepare(ctx)` (before the clock starts), `run(ctx)` (starts its loops; they stop once
// ctx.running() is false) and optional `atDeadline(ctx)` (notes taken when the time is up).
// Units done go to ctx.tally.add('units', n).
import {randomInt} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {protocolDefaults} from '../dist/net/limits.js';
import {closedOrDone, keepBusy, maxBacklogBytes, Pacer} from './abuse-pace.mjs';
import {freshIdentity, loggedInConnection, randomBody, randomUsername, sleep} from './abuse-wire.mjs';

/** The relay's default rate limit (PROTOCOL.md section 6): what a paced attacker stays within. */
const rate = {rate: 100, burst: 200};
const perAddress = 20;
const bodyBytes = protocolDefaults.maxBodyBytes;
const range = length => Array.from({length}, (_, index) => index);
const thousands = value => Math.round(value).toLocaleString('en-US');

/** Envelope JSON around a prebuilt body, built by concatenation (no JSON.stringify of 96 KiB a time). */
function envelopeJson(id, to, kind, body) {
	return `{"type":"send","id":"${id}","to":"${to}","kind":"${kind}","ephemeral":"${'A'.repeat(43)}","body":"${body}"}`;
}

const newId = () => randomUsername('m').replaceAll('-', '_');

/**
 * `count` fresh accounts logged in once (registered) and gone again: from the addresses in turn,
 * one login at a time per address so the per-address connection cap does not refuse them.
 */
async function registerAccounts(ctx, count) {
	const names = [];
	await Promise.all(
		ctx.addresses.map(async (address, addressIndex) => {
			for (let index = addressIndex; index < count; index += ctx.addresses.length) {
				const prepared = freshIdentity(randomUsername('off'));
				const connection = await loggedInConnection(ctx, address, prepared);
				if (!connection) continue;
				names.push(prepared.username);
				connection.leave();
				await Promise.race([connection.ended, sleep(1000)]);
				connection.close();
			}
		}),
	);
	return names;
}

/** One logged-in sender per address, or fewer if the relay refuses some. */
async function senders(ctx) {
	const connections = await Promise.all(ctx.addresses.map(address => loggedInConnection(ctx, address, freshIdentity(randomUsername('snd')))));
	return connections.filter(Boolean);
}

function countAccepted(ctx, connection) {
	connection.onMessage = message => {
		if (message.type === 'accepted') ctx.tally.add('accepted');
	};
}

export const ackFlood = {
	unit: 'delivery numbers',
	stated: ctx => `${ctx.addresses.length * perAddress} conn × 100 acks/s × 1024 = ${thousands(ctx.addresses.length * perAddress * 100 * 1024)} numbers/s`,
	prepare(ctx) {
		ctx.acks = range(16).map(() => JSON.stringify({type: 'ack', deliveries: range(1024).map(() => 1 + randomInt(2 ** 31))}));
		ctx.identities = range(ctx.addresses.length * perAddress).map(() => freshIdentity(randomUsername('ack')));
	},
	run(ctx) {
		const pacer = new Pacer();
		ctx.cleanups.push(() => pacer.stop());
		for (const address of ctx.addresses) {
			for (const _ of range(perAddress)) {
				void keepBusy(ctx, async () => {
					const connection = await loggedInConnection(ctx, address, ctx.identities.pop() ?? freshIdentity(randomUsername('ack')));
					if (!connection) {
						await sleep(500);
						return;
					}
					ctx.tally.add('logged in');
					let next = randomInt(16);
					const stop = pacer.add({
						...rate,
						step() {
							if (connection.closed || connection.backlog > maxBacklogBytes) return false;
							connection.sendJson(ctx.acks[next++ % ctx.acks.length]);
							ctx.tally.add('units', 1024);
							return true;
						},
					});
					await closedOrDone(ctx, connection);
					stop();
				});
			}
		}
	},
};

/** The sizes of the relay's database and its write-ahead log: read by the parent through ctx. */
export const offlineFill = {
	unit: 'body bytes',
	stated: ctx => `${ctx.addresses.length} sender(s) × 100 sends/s (direct and everyone × 50 alternately) × 96 KiB`,
	async prepare(ctx) {
		ctx.body = randomBody(bodyBytes);
		ctx.offline = await registerAccounts(ctx, 50);
		ctx.senders = await senders(ctx);
		ctx.notes.offlineAccounts = ctx.offline.length;
		ctx.notes.senders = ctx.senders.length;
	},
	run(ctx) {
		const pacer = new Pacer();
		ctx.cleanups.push(() => pacer.stop());
		if (ctx.offline.length === 0) return;
		for (const connection of ctx.senders) {
			countAccepted(ctx, connection);
			let turn = 0;
			pacer.add({
				...rate,
				step() {
					if (connection.closed || connection.backlog > maxBacklogBytes) return false;
					const id = newId();
					if (turn++ % 2 === 0) {
						connection.sendJson(envelopeJson(id, ctx.offline[randomInt(ctx.offline.length)], 'direct', ctx.body));
						ctx.tally.add('units', bodyBytes);
					} else {
						for (const to of ctx.offline) connection.sendJson(envelopeJson(id, to, 'everyone', ctx.body));
						ctx.tally.add('units', bodyBytes * ctx.offline.length);
					}
					return true;
				},
			});
		}
	},
};

/** The state of a TCP connection of this process by its local port, from /proc/net/tcp ('01' is established). */
function tcpState(localPort) {
	const hex = localPort.toString(16).toUpperCase().padStart(4, '0');
	for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
		const fields = line.trim().split(/\s+/);
		if (fields[1]?.endsWith(`:${hex}`) && fields[1].startsWith('0100007F')) return fields[3];
	}
	return 'gone';
}

export const everyoneFlood = {
	unit: 'body bytes',
	stated: ctx => `${ctx.addresses.length} sender(s) × 100 everyone msgs/s × 6 copies (5 paused victims and the bystander) × 96 KiB`,
	async prepare(ctx) {
		ctx.body = randomBody(bodyBytes);
		ctx.victims = (
			await Promise.all(
				range(5).map(async () => {
					const prepared = freshIdentity(randomUsername('victim'));
					const connection = await loggedInConnection(ctx, '127.0.0.1', prepared, {roster: true});
					if (!connection) return undefined;
					// A user whose client is stuck: the relay's frames pile up in the kernel and then in the relay.
					connection.ignoreInput = true;
					connection.socket.pause();
					return {connection, username: prepared.username, port: connection.socket.localPort};
				}),
			)
		).filter(Boolean);
		ctx.recipients = [...ctx.victims.map(victim => victim.username), ctx.bystander];
		ctx.senders = await senders(ctx);
		ctx.notes.victims = ctx.victims.length;
		ctx.notes.senders = ctx.senders.length;
	},
	run(ctx) {
		const pacer = new Pacer();
		ctx.cleanups.push(() => pacer.stop());
		for (const connection of ctx.senders) {
			countAccepted(ctx, connection);
			pacer.add({
				...rate,
				step() {
					if (connection.closed || connection.backlog > maxBacklogBytes) return false;
					const id = newId();
					for (const to of ctx.recipients) connection.sendJson(envelopeJson(id, to, 'everyone', ctx.body));
					ctx.tally.add('units', bodyBytes * ctx.recipients.length);
					return true;
				},
			});
		}
	},
	atDeadline(ctx) {
		const dropped = ctx.victims.filter(victim => victim.connection.closed || tcpState(victim.port) !== '01');
		ctx.notes.victimsDropped = `${dropped.length} / ${ctx.victims.length}`;
	},
};

export const badLogin = {
	unit: 'login attempts',
	stated: ctx => `${ctx.addresses.length * perAddress} conn × 100 bad logins/s = ${thousands(ctx.addresses.length * perAddress * 100)} logins/s`,
	prepare(ctx) {
		ctx.identities = range(ctx.addresses.length * perAddress).map(() => freshIdentity(randomUsername('bad')));
	},
	run(ctx) {
		const pacer = new Pacer();
		ctx.cleanups.push(() => pacer.stop());
		for (const [addressIndex, address] of ctx.addresses.entries()) {
			for (const index of range(perAddress)) {
				const prepared = ctx.identities[addressIndex * perAddress + index];
				void keepBusy(ctx, async () => {
					const connection = ctx.open(address);
					if (!(await connection.connected) || !(await connection.handshake())) {
						connection.close();
						await sleep(200);
						return;
					}
					// The binding is valid, the proof signs a random transcript: a few made ahead, used in turn.
					const logins = range(8).map(() => JSON.stringify(connection.loginMessage(prepared, {badProof: true})));
					let next = 0;
					connection.onMessage = message => {
						if (message.type === 'welcome') ctx.tally.add('welcome (unexpected)');
					};
					const stop = pacer.add({
						...rate,
						step() {
							if (connection.closed || connection.backlog > maxBacklogBytes) return false;
							connection.sendJson(logins[next++ % logins.length]);
							ctx.tally.add('units');
							return true;
						},
					});
					await closedOrDone(ctx, connection);
					stop();
				});
			}
		}
	},
};
