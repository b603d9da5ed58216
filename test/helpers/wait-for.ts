/**
 * Retries `fn` until it stops throwing (or its promise stops rejecting), then returns its value.
 * Throws the last error once `timeoutMs` has passed. For UI tests: wait for a condition, never sleep.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, {timeoutMs = 5000, intervalMs = 10} = {}): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await fn();
		} catch (error) {
			if (Date.now() >= deadline) throw error;
		}

		await new Promise(resolve => {
			setTimeout(resolve, intervalMs);
		});
	}
}

/**
 * Lets React run the effects of the frame just drawn. Ink's useInput re-attaches its handler in a
 * passive effect, which React schedules with setImmediate: a key written between the frame and
 * that effect reaches the previous render's handler. Not a timed sleep: two turns of the loop.
 */
export async function flushEffects(): Promise<void> {
	for (let turn = 0; turn < 2; turn++) {
		await new Promise(resolve => {
			setImmediate(resolve);
		});
	}
}
