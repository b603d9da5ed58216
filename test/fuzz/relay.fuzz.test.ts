import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {meet, next, onlineClient, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {messageLike} from '../helpers/hostile.js';

// Hostile sessions against a real relay while alice and bob keep chatting: random bytes,
// truncated and oversized lines, valid tokens carrying garbage, replays and spoofed senders.
// IM_TUI_FUZZ_SESSIONS raises the count for a benchmark-length run.
const sessions = Number(process.env.IM_TUI_FUZZ_SESSIONS ?? 150);
const warmUpSessions = 300;

type Attack =
	| {kind: 'bytes'; chunks: Uint8Array[]}
	| {kind: 'messages'; login: boolean; batches: unknown[][]; replay: boolean};

const attack: fc.Arbitrary<Attack> = fc.oneof(
	fc.record({kind: fc.constant('bytes' as const), chunks: fc.array(fc.uint8Array({minLength: 1, maxLength: 2000}), {minLength: 1, maxLength: 4})}),
	fc.record({
		kind: fc.constant('messages' as const),
		login: fc.boolean(),
		batches: fc.array(fc.array(messageLike, {minLength: 1, maxLength: 5}), {minLength: 1, maxLength: 4}),
		replay: fc.boolean(),
	}),
);

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * The heap in use once garbage collection has nothing more to take. Waits out the 2 s in which
 * the relay keeps a closed connection's socket in case its peer never reads (connection.ts).
 */
async function heapAfterGc(): Promise<number> {
	await new Promise(resolve => setTimeout(resolve, 2500));
	let last = Number.POSITIVE_INFINITY;
	for (let round = 0; round < 10; round++) {
		await new Promise(resolve => setTimeout(resolve, 50));
		collectGarbage();
		const used = process.memoryUsage().heapUsed;
		if (used >= last * 0.99) return used;
		last = used;
	}
	return last;
}

describe('fuzzing a live relay', () => {
	it('survives hostile sessions, and a bystander keeps chatting throughout', {timeout: 120_000}, async () => {
		const events: string[] = [];
		// Small frames, but room for the bystanders' own (a prekeys upload of 100 one-time keys is about 9 KB sealed).
		const relay = await relayForTest({limits: {maxFrameBytes: 16_384}, log: event => events.push(event)});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		let cases = 0;
		const hostileSession = fc.asyncProperty(attack, fc.integer({min: 0, max: 1_000_000}), async (hostile, serial) => {
			cases += 1;
			const peer = await RawPeer.open(relay.port);
			if (hostile.kind === 'bytes') {
				for (const chunk of hostile.chunks) peer.write(Buffer.from(chunk));
			} else {
				const channel = await peer.handshake();
				const frames: string[] = [];
				// Few names, so the directory stops growing: registered users are kept by design, not leaked.
				if (hostile.login) frames.push(channel.sealer.seal([RawPeer.login(channel, `fuzz${serial % 20}`)]));
				for (const batch of hostile.batches) frames.push(channel.sealer.seal(batch as object[]));
				if (hostile.replay && frames.length > 0) frames.push(frames[0]!);
				for (const frame of frames) peer.write(frame + '\n');
			}
			peer.socket.destroy();
			if (cases % 25 === 0) {
				const received = next(bob, 'message');
				alice.send('bob', `still here ${cases}`);
				expect((await received)[0].text).toBe(`still here ${cases}`);
			}
		});
		// A first round takes every path until V8 has compiled and optimised them: a heap snapshot diff
		// showed that what grows without it is compiled code and feedback vectors, not relay state.
		await fc.assert(hostileSession, {numRuns: warmUpSessions});
		const heapBefore = await heapAfterGc();
		await fc.assert(hostileSession, {numRuns: sessions});
		const received = next(bob, 'message');
		alice.send('bob', 'after the storm');
		expect((await received)[0].text).toBe('after the storm');
		expect(relay.onlineUsernames()).toEqual(expect.arrayContaining(['alice', 'bob']));
		// every hostile input was refused by a check, none reached a code path that threw
		expect(events).not.toContain('internal_error');
		expect(events.filter(event => event === 'protocol_error').length).toBeGreaterThan(0);
		// the relay runs in this process: its heap, with the test's, returns to where it started
		const heapAfter = await heapAfterGc();
		console.log(`fuzz: ${cases} hostile sessions (${warmUpSessions} to warm up); heap after GC ${(heapBefore / 2 ** 20).toFixed(1)} MiB before, ${(heapAfter / 2 ** 20).toFixed(1)} MiB after`);
		expect(heapAfter).toBeLessThan(heapBefore * 1.1);
	});
});
