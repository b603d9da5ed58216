import {fstatSync} from 'node:fs';

/**
 * Like ssh with a key file: the open file `fd` (at `path`) must be a regular file that only its
 * owner, this user, may read or write. Checked on the descriptor, so the file checked is the file
 * used. `fail` makes the error from what is wrong.
 */
export function checkPrivateDescriptor(fd: number, path: string, fail: (why: string) => Error): void {
	const stats = fstatSync(fd);
	if (!stats.isFile()) throw fail(`${path} is not a regular file`);
	if ((stats.mode & 0o077) !== 0) throw fail(`${path} is accessible by other users (mode ${(stats.mode & 0o777).toString(8)}): run chmod 600 on it`);
	if (process.getuid !== undefined && stats.uid !== process.getuid()) throw fail(`${path} belongs to another user (uid ${stats.uid})`);
}
