/**
 * Runs `callback` once what the current event (a socket read, a timer) set off has run: after the
 * microtasks queued now and every one they queue in turn. A relay that awaits its store answers a
 * frame over many microtasks; what it does once per turn (commit a batch, write one frame of
 * answers) waits for all of them, as it waited for one synchronous call before. A microtask that
 * asks for the next tick runs it only once the microtask queue is empty.
 */
export function endOfTurn(callback: () => void): void {
	queueMicrotask(() => process.nextTick(callback));
}
