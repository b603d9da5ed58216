// What bench/abuse.mjs reads about the relay's process from /proc (Linux), and CPU pinning.
import {execFileSync} from 'node:child_process';
import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';

const clockTicks = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
	} catch {
		return 100;
	}
})();

/** Resident memory of `pid` in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid) {
	try {
		const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

/** CPU time of `pid` so far (utime + stime, all its threads) in µs, or undefined once it is gone. */
export function cpuMicros(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// Fields after the command name (which may hold spaces), counted from field 3 (state).
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
	} catch {
		return undefined;
	}
}

/** Bytes of the relay's database and its write-ahead log in `dataDir`. */
export function databaseBytes(dataDir) {
	let total = 0;
	for (const name of ['relay.sqlite', 'relay.sqlite-wal']) {
		try {
			total += statSync(join(dataDir, name)).size;
		} catch {
			// Not there (yet): nothing written.
		}
	}
	return total;
}

/** CPUs this process may run on (what `nproc` prints). */
export function usableCpus() {
	try {
		return Number(execFileSync('nproc', {encoding: 'utf8'}).trim());
	} catch {
		return 1;
	}
}

/** Pins every thread of `pid` to `cpu` (taskset -a -pc); false if taskset failed. */
export function pin(pid, cpu) {
	try {
		execFileSync('/usr/bin/taskset', ['-a', '-pc', String(cpu), String(pid)], {stdio: 'ignore'});
		return true;
	} catch {
		return false;
	}
}

/** Samples `read()` every `ms` milliseconds and keeps the peak until stop(). */
export function peakSampler(read, ms = 100) {
	let peak = read() ?? 0;
	let last = peak;
	const timer = setInterval(() => {
		const value = read();
		if (value === undefined) return;
		last = value;
		peak = Math.max(peak, value);
	}, ms);
	return {
		get peak() {
			return peak;
		},
		get last() {
			return last;
		},
		stop: () => clearInterval(timer),
	};
}
