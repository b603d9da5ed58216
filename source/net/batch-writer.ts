import {batchOverheadBytes, tokenLength, type FrameSealing} from './secure-channel.js';

/**
 * Coalesces every message queued during one turn of the event loop into as few encrypted frames
 * as the limits allow (PROTOCOL.md section 3): one token, one MAC, one write for many messages.
 * A frame is cut before it would hold more than maxBatchMessages or outgrow maxFrameBytes.
 */
export class BatchWriter<Message extends object> {
	private outbox: string[] = [];
	private outboxBytes = 0;
	private scheduled = false;

	constructor(
		private readonly sealer: FrameSealing,
		private readonly write: (frame: string) => void,
		private readonly limits: {maxBatchMessages: number; maxFrameBytes: number},
	) {}

	queue(message: Message): void {
		this.queueSerialized(JSON.stringify(message));
	}

	/** Queues a message that is already JSON text; `byteLength` may be given when known (ASCII: its length). */
	queueSerialized(serialized: string, byteLength = Buffer.byteLength(serialized)): void {
		const bytes = byteLength + 1;
		const full =
			this.outbox.length >= this.limits.maxBatchMessages ||
			tokenLength(this.outboxBytes + bytes + batchOverheadBytes) > this.limits.maxFrameBytes;
		if (full && this.outbox.length > 0) this.writeFrame();
		this.outbox.push(serialized);
		this.outboxBytes += bytes;
		if (!this.scheduled) {
			this.scheduled = true;
			queueMicrotask(() => this.flush());
		}
	}

	flush(): void {
		this.scheduled = false;
		if (this.outbox.length > 0) this.writeFrame();
	}

	discard(): void {
		this.outbox = [];
		this.outboxBytes = 0;
	}

	private writeFrame(): void {
		const frame = this.sealer.sealSerialized(this.outbox);
		this.outbox = [];
		this.outboxBytes = 0;
		this.write(frame + '\n');
	}
}
