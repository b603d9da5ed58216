import {useEffect, useRef} from 'react';
import {useStdout} from 'ink';

/** Rings the terminal bell once each time `count` grows (however much it grew), unless `enabled` is false. */
export function useBell(count: number, enabled: boolean): void {
	const {stdout} = useStdout();
	const rung = useRef(count);
	useEffect(() => {
		if (count > rung.current && enabled) stdout.write('\u0007');
		rung.current = count;
	}, [count, enabled, stdout]);
}
