import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll} from 'vitest';

/** A fresh directory under the OS temp dir, removed after the test file. Never the real home. */
export function tempDir(prefix = 'im-tui-test-'): string {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
}
