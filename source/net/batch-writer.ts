import {batchOverheadBytes, tokenLength, type FrameSealing} from './secure-channel.js';

/**
 * Frames are cut at this many bytes of token when the limits allow more: V8 puts strings over
 * 128 KiB in its large-object space, where each one brings a full garbage collection closer, and
 * a frame is several such strings at each end. A single longer message still gets a frame.
 */
export const preferredFrameBytes = 65_536;

/**
 * Coalesces every message queued during one turn of the event loop into as few encrypted frames
 * as the limits allow (PROTOCOL.md section 3): one token, one MAC, one write for many messages.
 * A frame is cut before it would hold more than maxBatchMessages or outgrow preferredFrameBytes
 * (maxFrameBytes when that is smaller). The turn ends when `schedule` runs its callback: after the
 * current microtasks by default; the relay, whose answers come over several microtasks (each
 * awaits its store), waits until they have all run (relay/end-of-turn.ts).
 */
export class BatchWriter<Message extends object> {
	private outbox: string[] = [];
	private outboxBytes = 0;
	private scheduled = false;
	private readonly frameBytes: number;
	private readonly scheduledFlush = (): void => this.flush();

	constructor(
		private readonly sealer: FrameSealing,
		private readonly write: (frame: string) => void,
		private readonly limits: {maxBatchMessages: number; maxFrameBytes: number},
		private readonly schedule: (flush: () => void) => void = queueMicrotask,
	) {
		this.frameBytes = Math.min(limits.maxFrameBytes, preferredFrameBytes);
	}

	queue(message: Message): void {
		this.queueSerialized(JSON.stringify(message));
	}

	/** Queues a message that is already JSON text; `byteLength` may be given when known (ASCII: its length). */
	queueSerialized(serialized: string, byteLength = Buffer.byteLength(serialized)): void {
		const bytes = byteLength + 1;
		const full =
			this.outbox.length >= this.limits.maxBatchMessages ||
			tokenLength(this.outboxBytes + bytes + batchOverheadBytes) > this.frameBytes;
		if (full && this.outbox.length > 0) this.writeFrame();
		this.outbox.push(serialized);
		this.outboxBytes += bytes;
		if (!this.scheduled) {
			this.scheduled = true;
			this.schedule(this.scheduledFlush);
		}
	}

	/** Bytes queued and not yet written. */
	get pendingBytes(): number {
		return this.outboxBytes;
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
