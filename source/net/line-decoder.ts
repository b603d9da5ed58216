import {ProtocolError} from './error-codes.js';

const lineFeed = 0x0a;

/**
 * Splits a byte stream into frames at line feeds (PROTOCOL.md section 1). Never touches a socket:
 * feed it chunks, it hands back complete frames. A frame longer than maxFrameBytes throws
 * frame_too_large as soon as the excess is seen, so a peer cannot make it buffer more.
 */
export class LineDecoder {
	private pending: Buffer[] = [];
	private pendingBytes = 0;

	constructor(private readonly maxFrameBytes: number) {}

	push(chunk: Buffer): string[] {
		const frames: string[] = [];
		let start = 0;
		for (;;) {
			const end = chunk.indexOf(lineFeed, start);
			if (end === -1) break;
			const length = this.pendingBytes + end - start;
			if (length > this.maxFrameBytes) this.tooLarge();
			const tail = chunk.subarray(start, end);
			const frame = this.pendingBytes === 0 ? tail : Buffer.concat([...this.pending, tail], length);
			frames.push(frame.toString('utf8'));
			this.pending = [];
			this.pendingBytes = 0;
			start = end + 1;
		}
		if (start < chunk.length) {
			const rest = chunk.subarray(start);
			if (this.pendingBytes + rest.length > this.maxFrameBytes) this.tooLarge();
			this.pending.push(rest);
			this.pendingBytes += rest.length;
		}
		return frames;
	}

	get bufferedBytes(): number {
		return this.pendingBytes;
	}

	private tooLarge(): never {
		this.pending = [];
		this.pendingBytes = 0;
		throw new ProtocolError('frame_too_large', `frame exceeds ${this.maxFrameBytes} bytes`);
	}
}
