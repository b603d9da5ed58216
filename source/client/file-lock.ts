import {randomBytes} from 'node:crypto';
import {closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs';

export const lockTimeoutMs = 10_000;
/** A lock is held for one read and one write; one this old was left by a process that hung or died. */
export const staleLockMs = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `action` holding `<path>.lock`, a file that holds our pid from the moment it exists. A lock
 * whose process is gone, or older than staleLockMs, is broken; after lockTimeoutMs we give up.
 */
export function withLock<T>(path: string, timeoutMs: number, action: () => T): T {
	const lockPath = `${path}.lock`;
	const deadline = Date.now() + timeoutMs;
	for (let attempt = 0; ; attempt++) {
		if (createLock(lockPath)) break;
		if (breakStaleLock(lockPath)) continue;
		if (Date.now() > deadline) {
			throw new Error(`${path} stays locked by another im-tui process; if none is running, remove ${lockPath}`);
		}
		Atomics.wait(sleeper, 0, 0, Math.min(1 + attempt, 20));
	}
	try {
		return action();
	} finally {
		unlinkSync(lockPath);
	}
}

/**
 * Creates the lock with our pid already in it (written to a temporary file, then linked, which
 * fails if the lock exists): a process killed while taking the lock leaves none, or one with its
 * pid, broken at once; never an empty one, which only age could break. False when it is held.
 */
function createLock(lockPath: string): boolean {
	const temporary = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
	const fd = openSync(temporary, 'wx', 0o600);
	try {
		try {
			writeSync(fd, `${process.pid}\n`);
		} finally {
			closeSync(fd);
		}
		linkSync(temporary, lockPath);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	} finally {
		unlinkSync(temporary);
	}
}

/** Removes the lock if it is stale; true when the caller should try to take it again at once. */
function breakStaleLock(lockPath: string): boolean {
	let inode: number;
	let old: boolean;
	let pid: number;
	try {
		const stats = statSync(lockPath);
		inode = stats.ino;
		old = Date.now() - stats.mtimeMs > staleLockMs;
		// Empty only when an older version was writing its pid: then only its age can make it stale.
		pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
		throw error;
	}
	if (!old && !(Number.isSafeInteger(pid) && pid > 0 && !isRunning(pid))) return false;
	// Move it aside first: if someone replaced the stale lock in the meantime, put theirs back.
	const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
	try {
		renameSync(lockPath, aside);
	} catch {
		return true;
	}
	if (statSync(aside).ino !== inode) {
		try {
			linkSync(aside, lockPath);
		} catch {
			// Someone else holds it now; theirs stands.
		}
	}
	unlinkSync(aside);
	return true;
}

function isRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
