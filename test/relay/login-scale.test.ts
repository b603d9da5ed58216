import {readFileSync} from 'node:fs';
import {afterEach, describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {fillManyUsers, registerWithContacts} from '../helpers/relay-users.js';
import {tempDir} from '../helpers/temp-dir.js';

const relays: RelayProcess[] = [];

afterEach(async () => {
	for (const relay of relays.splice(0)) {
		relay.child.kill('SIGTERM');
		await relay.exited;
	}
});

function residentBytes(pid: number): number {
	const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
	return Number(kib) * 1024;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

type Measured = {loginMs: number; welcomeBytes: number[]; residentBefore: number; residentAfter: number; startMs: number};

/**
 * A relay with `registered` users, alice among them with three contacts, and all the others
 * filler rows: alice logs in `logins` times, one connection after the other.
 */
async function measure(registered: number, logins: number): Promise<Measured> {
	const dataDir = tempDir();
	const aliceKeys = generateIdentity();
	const friends = ['amy', 'ben', 'cat'];
	// the same keys in both relays: the same records, so the same bytes
	for (const [index, name] of friends.entries()) registerWithContacts(dataDir, name, keysFor(index), []);
	registerWithContacts(dataDir, 'alice', aliceKeys, friends);
	fillManyUsers(dataDir, registered - 4, fillerRecord);
	const started = performance.now();
	const relay = await spawnRelay(['--data-dir', dataDir, '--community', 'off']);
	const startMs = performance.now() - started;
	relays.push(relay);
	const residentBefore = residentBytes(relay.child.pid!);
	const times: number[] = [];
	const welcomeBytes: number[] = [];
	for (let index = 0; index < logins; index++) {
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		await peer.line(1);
		const login = channel.sealer.seal([RawPeer.login(channel, 'alice', aliceKeys)]);
		const sent = performance.now();
		peer.write(login + '\n');
		const welcome = await peer.line(2);
		times.push(performance.now() - sent);
		channel.opener.open(await peer.line(1));
		expect(channel.opener.open(welcome)).toEqual([expect.objectContaining({type: 'welcome', users: expect.any(Array)})]);
		welcomeBytes.push(peer.socket.bytesRead);
		peer.socket.destroy();
		await peer.untilClosed();
	}
	return {loginMs: median(times), welcomeBytes, residentBefore, residentAfter: residentBytes(relay.child.pid!), startMs};
}

const fixedKeys = [generateIdentity(), generateIdentity(), generateIdentity()];
const keysFor = (index: number) => fixedKeys[index]!;
const filler = publicIdentity(generateIdentity(), 'filler');
const fillerRecord = {identity: toBase64Url(filler.identity), x25519: toBase64Url(filler.x25519), binding: toBase64Url(filler.binding)};

describe('a login costs the same however many users are registered (issue 12)', () => {
	it('1,000,000 registered users against 10: the same bytes, about the same memory and time', {timeout: 180_000}, async () => {
		const small = await measure(10, 9);
		const fillStarted = performance.now();
		const large = await measure(1_000_000, 9);
		const fillAndStartMs = performance.now() - fillStarted;
		const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
		console.log(
			`login-scale: 10 users: login ${small.loginMs.toFixed(2)} ms, ${small.welcomeBytes[0]} bytes, RSS ${mib(small.residentBefore)} -> ${mib(small.residentAfter)} MiB, start ${small.startMs.toFixed(0)} ms; ` +
				`1,000,000 users: login ${large.loginMs.toFixed(2)} ms, ${large.welcomeBytes[0]} bytes, RSS ${mib(large.residentBefore)} -> ${mib(large.residentAfter)} MiB, start ${large.startMs.toFixed(0)} ms (fill and start ${fillAndStartMs.toFixed(0)} ms)`,
		);
		// every login of either relay received exactly the same number of bytes up to its welcome
		expect(new Set([...small.welcomeBytes, ...large.welcomeBytes]).size).toBe(1);
		expect(Math.abs(large.residentAfter - small.residentAfter)).toBeLessThan(16 * 1024 * 1024);
		// a login is a few milliseconds of signature checks and crypto; the database adds nothing that shows
		expect(large.loginMs).toBeLessThan(small.loginMs * 2 + 5);
	});
});
