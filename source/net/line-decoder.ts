import {ProtocolError} from './error-codes.js';

const lineFeed = 0x0a;
/** The first allocation for a partial frame; it doubles as the frame grows. */
const initialCapacity = 1024;

/**
 * Splits a byte stream into frames at line feeds (PROTOCOL.md section 1). Never touches a socket:
 * feed it chunks, it hands back complete frames. A frame longer than the limit throws
 * frame_too_large as soon as the excess is seen, so a peer cannot make it buffer more.
 *
 * The bytes of a partial frame are copied into one buffer that doubles as it fills, so a peer that
 * sends one byte per TCP segment costs at most twice its bytes (plus 1 KiB), not a Buffer object
 * per read. The limit may change between frames (the relay allows a small hello, then more).
 */
export class LineDecoder {
	private partial: Buffer | undefined;
	private partialBytes = 0;

	constructor(private maxFrameBytes: number) {}

	/** A new limit for the frames that follow; a partial frame already over it throws at its next byte. */
	setLimit(maxFrameBytes: number): void {
		this.maxFrameBytes = maxFrameBytes;
	}

	push(chunk: Buffer): string[] {
		const frames: string[] = [];
		let start = 0;
		for (;;) {
			const end = chunk.indexOf(lineFeed, start);
			if (end === -1) break;
			const length = this.partialBytes + end - start;
			if (length > this.maxFrameBytes) this.tooLarge();
			if (this.partialBytes === 0) {
				frames.push(chunk.toString('utf8', start, end));
			} else {
				this.append(chunk, start, end);
				frames.push(this.partial!.toString('utf8', 0, this.partialBytes));
				this.partial = undefined;
				this.partialBytes = 0;
			}
			start = end + 1;
		}
		if (start < chunk.length) {
			if (this.partialBytes + chunk.length - start > this.maxFrameBytes) this.tooLarge();
			this.append(chunk, start, chunk.length);
		}
		return frames;
	}

	/** Bytes of the frame received so far without its line feed. */
	get bufferedBytes(): number {
		return this.partialBytes;
	}

	/** Bytes this decoder holds in memory for them: at most twice bufferedBytes, or 1 KiB. */
	get heldBytes(): number {
		return this.partial?.length ?? 0;
	}

	private append(chunk: Buffer, start: number, end: number): void {
		const needed = this.partialBytes + end - start;
		if (this.partial === undefined || needed > this.partial.length) {
			let capacity = Math.max(initialCapacity, this.partial?.length ?? 0);
			while (capacity < needed) capacity *= 2;
			// not from the shared pool: a small frame must not keep a pool block alive
			const grown = Buffer.allocUnsafeSlow(Math.min(capacity, Math.max(needed, this.maxFrameBytes)));
			this.partial?.copy(grown, 0, 0, this.partialBytes);
			this.partial = grown;
		}
		chunk.copy(this.partial, this.partialBytes, start, end);
		this.partialBytes = needed;
	}

	private tooLarge(): never {
		this.partial = undefined;
		this.partialBytes = 0;
		throw new ProtocolError('frame_too_large', `frame exceeds ${this.maxFrameBytes} bytes`);
	}
}
