/**
 * A value now, or a promise of it: what the relay's message path returns where the common case
 * needs no store (a contact known, a recipient online). Answered at once, it costs no promise and
 * no turn of the microtask queue; only a read makes it wait.
 */
export type Maybe<T> = T | Promise<T>;

/**
 * Runs `next` on the value: at once if it is there, once it is if it is a promise. (Not named
 * `then`: a module exporting `then` is a thenable, and a dynamic import of it would call it.)
 */
export function andThen<T, U>(value: Maybe<T>, next: (value: T) => Maybe<U>): Maybe<U> {
	return value instanceof Promise ? value.then(next) : next(value);
}
