import type {FrameSealer} from './secure-channel.js';

/**
 * Coalesces every message queued during one turn of the event loop into as few encrypted frames
 * as the batch limit allows (PROTOCOL.md section 3): one token, one MAC, one write for many messages.
 */
export class BatchWriter<Message extends object> {
	private outbox: Message[] = [];
	private scheduled = false;

	constructor(
		private readonly sealer: FrameSealer,
		private readonly write: (frame: string) => void,
		private readonly maxBatchMessages: number,
	) {}

	queue(message: Message): void {
		this.outbox.push(message);
		if (!this.scheduled) {
			this.scheduled = true;
			queueMicrotask(() => this.flush());
		}
	}

	flush(): void {
		this.scheduled = false;
		const limit = this.maxBatchMessages;
		while (this.outbox.length > 0) {
			const batch = this.outbox.length <= limit ? this.outbox : this.outbox.slice(0, limit);
			this.outbox = this.outbox.length <= limit ? [] : this.outbox.slice(limit);
			this.write(this.sealer.seal(batch) + '\n');
		}
	}

	discard(): void {
		this.outbox = [];
	}
}
