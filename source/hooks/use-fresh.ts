import {useEffect, useState} from 'react';

/** `value` until `ttlMs` after it was last set (by identity), then undefined: a notice that fades. */
export function useFresh<T extends object>(value: T | undefined, ttlMs: number): T | undefined {
	const [expired, setExpired] = useState<T | undefined>(undefined);
	useEffect(() => {
		if (value === undefined) return;
		const timer = setTimeout(() => {
			setExpired(value);
		}, ttlMs);
		return () => {
			clearTimeout(timer);
		};
	}, [value, ttlMs]);
	return value === expired ? undefined : value;
}
