const lineFeed = 0x0a;

export type InputLine = {type: 'line'; text: string} | {type: 'too_long'};

/** The longest command line taken, in bytes without its line feed. */
export const defaultMaxLineBytes = 64 * 1024;

/**
 * Splits stdin into lines, holding at most `maxLineBytes` of a partial line. A longer line is
 * reported once, as soon as it passes the bound, and the rest of it is skipped up to its line
 * feed: whatever comes in, the reader goes on. Pure: feed it chunks, it hands back lines.
 */
export class InputLines {
	#parts: Buffer[] = [];
	#bytes = 0;
	#skipping = false;

	constructor(private readonly maxLineBytes = defaultMaxLineBytes) {}

	push(chunk: Buffer): InputLine[] {
		const lines: InputLine[] = [];
		let start = 0;
		while (start <= chunk.length) {
			const end = chunk.indexOf(lineFeed, start);
			const stop = end === -1 ? chunk.length : end;
			if (!this.#skipping) {
				if (this.#bytes + stop - start > this.maxLineBytes) {
					this.#drop();
					this.#skipping = true;
					lines.push({type: 'too_long'});
				} else if (stop > start) {
					this.#parts.push(Buffer.from(chunk.subarray(start, stop)));
					this.#bytes += stop - start;
				}
			}
			if (end === -1) break;
			if (this.#skipping) this.#skipping = false;
			else lines.push({type: 'line', text: this.#take()});
			start = end + 1;
		}
		return lines;
	}

	/** The end of input: a last line without its line feed still counts. */
	end(): InputLine[] {
		const last: InputLine[] = !this.#skipping && this.#bytes > 0 ? [{type: 'line', text: this.#take()}] : [];
		this.#drop();
		this.#skipping = false;
		return last;
	}

	#take(): string {
		const text = Buffer.concat(this.#parts, this.#bytes).toString('utf8');
		this.#drop();
		return text.endsWith('\r') ? text.slice(0, -1) : text;
	}

	#drop(): void {
		this.#parts = [];
		this.#bytes = 0;
	}
}
