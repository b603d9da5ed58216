import {useEffect, useRef} from 'react';
import {useStdout} from 'ink';

/** The bell rings at most this often, however many conversations get unread messages. */
export const bellIntervalMs = 1000;

/**
 * Rings the terminal bell once each time `count` grows (however much it grew), at most once a
 * second, unless `enabled` is false.
 */
export function useBell(count: number, enabled: boolean): void {
	const {stdout} = useStdout();
	const rung = useRef(count);
	const lastRing = useRef(0);
	useEffect(() => {
		if (count > rung.current && enabled && Date.now() - lastRing.current >= bellIntervalMs) {
			stdout.write('\u0007');
			lastRing.current = Date.now();
		}

		rung.current = count;
	}, [count, enabled, stdout]);
}
