// CPU time and memory of processes by pid, read from /proc (Linux): what a process spent, whoever
// started it, so a relay started as a command and PostgreSQL's own processes are counted alike.
import {execFileSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';

const ticksPerSecond = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
	} catch {
		return 100;
	}
})();

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses), or undefined if it is gone. */
function statFields(pid) {
	let text;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return undefined;
	}
	// After ")": state, ppid, ... utime (14th field of the line), stime, cutime, cstime.
	return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

const micros = ticks => (Number(ticks) * 1_000_000) / ticksPerSecond;

/** User + system CPU of the process so far (all its threads), in µs; undefined if it is gone. */
export function processCpuMicros(pid) {
	const fields = statFields(pid);
	return fields === undefined ? undefined : micros(fields[11]) + micros(fields[12]);
}

/** The process's resident set (VmRSS), in bytes; undefined if it is gone. */
export function processRss(pid) {
	try {
		const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

/** The parent of `pid`, or undefined if the process is gone (or not visible here). */
export function parentPid(pid) {
	const fields = statFields(pid);
	return fields === undefined ? undefined : Number(fields[1]);
}

/**
 * CPU of a PostgreSQL server and every process it started, in µs: the postmaster's own time, the
 * time of its children still running (backends, checkpointer, WAL writer, ...), and the time of
 * children that have ended (the postmaster waits for each, so the kernel adds theirs to its
 * cutime/cstime). A difference of two readings is the server's CPU between them, backends that
 * came and went included.
 */
export function postgresCpuMicros(postmasterPid) {
	const own = statFields(postmasterPid);
	if (own === undefined) throw new Error(`the PostgreSQL server (pid ${postmasterPid}) is gone`);
	let total = micros(own[11]) + micros(own[12]) + micros(own[13]) + micros(own[14]);
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		const fields = statFields(name);
		if (fields !== undefined && Number(fields[1]) === postmasterPid) total += micros(fields[11]) + micros(fields[12]);
	}
	return total;
}

/** How many processes the postmaster runs now (for the header: a sanity check that they were found). */
export function postgresProcessCount(postmasterPid) {
	let count = 0;
	for (const name of readdirSync('/proc')) {
		if (/^\d+$/.test(name) && parentPid(name) === postmasterPid) count += 1;
	}
	return count;
}
