import {EventEmitter} from 'node:events';
import type {ReactElement} from 'react';
import {render, type Instance} from 'ink';
import {afterEach} from 'vitest';

/**
 * Like ink-testing-library's render, but with a terminal height, resize, and Ink's
 * waitUntilExit (so tests can see whether the app exited cleanly or with an error).
 */
class FakeStdout extends EventEmitter {
	readonly isTTY = true;
	frames: string[] = [];
	/** Terminal bells rung: written apart from the frames, so that lastFrame() stays a frame. */
	bells = 0;

	constructor(
		public columns: number,
		public rows: number,
	) {
		super();
	}

	write = (frame: string): boolean => {
		if (frame === '\u0007') this.bells++;
		else this.frames.push(frame);
		return true;
	};

	lastFrame = (): string | undefined => this.frames.at(-1);
}

class FakeStdin extends EventEmitter {
	readonly isTTY = true;
	private data: string | Buffer | null = null;

	/** Strings are keys as Ink would get them; Buffers are raw bytes, UTF-8 cut anywhere included. */
	write = (data: string | Buffer): void => {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	};

	read = (): string | Buffer | null => {
		const {data} = this;
		this.data = null;
		return data;
	};

	setEncoding(): void {}
	setRawMode(): void {}
	resume(): void {}
	pause(): void {}
	ref(): void {}
	unref(): void {}
}

const mounted: Instance[] = [];

afterEach(() => {
	for (const instance of mounted.splice(0)) {
		instance.unmount();
		instance.cleanup();
	}
});

export type AppView = ReturnType<typeof renderApp>;

export function renderApp(tree: ReactElement, {columns = 100, rows = 30} = {}) {
	const stdout = new FakeStdout(columns, rows);
	const stderr = new FakeStdout(columns, rows);
	const stdin = new FakeStdin();
	const instance = render(tree, {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stderr: stderr as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
	});
	mounted.push(instance);
	// Settles with how the app ended; attached now so an exit error is never unhandled.
	let exitedNow = false;
	const exited = instance.waitUntilExit().then(
		value => {
			exitedNow = true;
			return {ok: true as const, value};
		},
		(error: unknown) => {
			exitedNow = true;
			return {ok: false as const, error: error as Error};
		},
	);
	return {
		stdin,
		stdout,
		lastFrame: stdout.lastFrame,
		/** Whether the app has exited (it settles `exited`). */
		get hasExited() {
			return exitedNow;
		},
		exited,
		resize(nextColumns: number, nextRows: number) {
			stdout.columns = nextColumns;
			stdout.rows = nextRows;
			stdout.emit('resize');
		},
	};
}
