import {useEffect, useState} from 'react';

/**
 * The clock, read again every `intervalMs` while `active` (a countdown on screen), and left alone
 * otherwise. The timer is cleared when the component goes or stops counting.
 */
export function useNow(active: boolean, intervalMs = 500, clock: () => number = Date.now): number {
	const [now, setNow] = useState(clock);
	useEffect(() => {
		if (!active) return;
		setNow(clock());
		const timer = setInterval(() => {
			setNow(clock());
		}, intervalMs);
		return () => {
			clearInterval(timer);
		};
	}, [active, intervalMs, clock]);
	return now;
}
