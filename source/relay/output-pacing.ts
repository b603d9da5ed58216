/** What pacing reads of a connection's output (a socket). */
export type PacedOutput = {
	readonly writableLength: number;
	readonly writableNeedDrain: boolean;
	once(event: 'drain', listener: () => void): unknown;
};

/**
 * When what is paced (the directory, the backlog, forwarding) may go on: while a connection's
 * unread output stays under a quarter of maxBufferedBytes, at most 256 KiB, so a thousand
 * connections that stop reading hold at most about 256 MiB of it.
 */
export class OutputPacing {
	constructor(
		private readonly output: PacedOutput,
		private readonly maxBufferedBytes: number,
		/** Bytes queued for the next frame, not yet written. */
		private readonly pendingBytes: () => number,
		private readonly flush: () => void,
	) {}

	whenWritable(callback: () => void): void {
		this.flush();
		if (this.output.writableLength < this.pacedBytes) setImmediate(callback);
		// 'drain' comes only after a write went past the socket's high-water mark (16 KiB): below
		// it, with a small maxBufferedBytes, look again shortly instead.
		else if (this.output.writableNeedDrain) this.output.once('drain', callback);
		else setTimeout(() => this.whenWritable(callback), 10);
	}

	hasRoom(): boolean {
		return this.output.writableLength + this.pendingBytes() < this.pacedBytes;
	}

	private get pacedBytes(): number {
		return Math.min(this.maxBufferedBytes / 4, 256 * 1024);
	}
}
