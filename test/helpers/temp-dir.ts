import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll} from 'vitest';

const made: string[] = [];

// Registered once, when a test file first imports this helper (vitest isolates test files, so each
// file imports it afresh): a hook registered from inside a running test never runs, and every
// directory a test body made would be left behind.
afterAll(() => {
	for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** A fresh directory under the OS temp dir, removed after the test file. Never the real home. */
export function tempDir(prefix = 'im-tui-test-'): string {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	made.push(dir);
	return dir;
}
