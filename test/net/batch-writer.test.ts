import {describe, expect, it} from 'vitest';
import {BatchWriter, preferredFrameBytes} from '../../source/net/batch-writer.js';
import {protocolDefaults} from '../../source/net/limits.js';
import {FrameOpener, FrameSealer} from '../../source/net/secure-channel.js';

const key = Buffer.alloc(32, 7);

/** A writer whose frames are opened again as a peer would, with the frame lengths kept. */
function writer(limits: {maxBatchMessages: number; maxFrameBytes: number} = protocolDefaults) {
	const opener = new FrameOpener(key, limits.maxBatchMessages);
	const frames: {length: number; messages: unknown[]}[] = [];
	const batches = new BatchWriter(new FrameSealer(key), line => frames.push({length: line.length - 1, messages: opener.open(line.slice(0, -1))}), limits);
	return {batches, frames};
}

const turn = () => new Promise(resolve => setImmediate(resolve));

describe('BatchWriter', () => {
	it('sends what one turn of the event loop queued as one frame, in order', async () => {
		const {batches, frames} = writer();
		for (let nonce = 0; nonce < 50; nonce++) batches.queue({type: 'ping', nonce});
		expect(frames).toHaveLength(0);
		await turn();
		expect(frames).toHaveLength(1);
		expect(frames[0]!.messages).toEqual(Array.from({length: 50}, (_, nonce) => ({type: 'ping', nonce})));
	});

	it('cuts a frame at maxBatchMessages', async () => {
		const {batches, frames} = writer({...protocolDefaults, maxBatchMessages: 4});
		for (let nonce = 0; nonce < 10; nonce++) batches.queue({type: 'ping', nonce});
		await turn();
		expect(frames.map(frame => frame.messages.length)).toEqual([4, 4, 2]);
	});

	it(`cuts frames at ${preferredFrameBytes} bytes of token though the protocol allows ${protocolDefaults.maxFrameBytes}, losing nothing`, async () => {
		const {batches, frames} = writer();
		const text = 'x'.repeat(1000);
		for (let nonce = 0; nonce < 300; nonce++) batches.queue({type: 'announcement', text, time: nonce});
		await turn();
		expect(frames.length).toBeGreaterThan(4);
		for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(preferredFrameBytes);
		expect(frames.flatMap(frame => frame.messages).map(message => (message as {time: number}).time)).toEqual(Array.from({length: 300}, (_, nonce) => nonce));
	});

	it('gives a message longer than the preferred size a frame of its own, up to maxFrameBytes', async () => {
		const {batches, frames} = writer();
		batches.queue({type: 'ping', nonce: 1});
		batches.queue({type: 'announcement', text: 'y'.repeat(100_000), time: 2});
		batches.queue({type: 'ping', nonce: 3});
		await turn();
		expect(frames.map(frame => frame.messages.length)).toEqual([1, 1, 1]);
		expect(frames[1]!.length).toBeGreaterThan(preferredFrameBytes);
		expect(frames[1]!.length).toBeLessThanOrEqual(protocolDefaults.maxFrameBytes);
	});
});
