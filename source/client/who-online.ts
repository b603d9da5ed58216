/** The most names of the who-is-online view kept, whatever a relay sends (its default whoLimit is 20). */
export const maxWhoNames = 100;

/** How often a logged-in client asks the relay again who is online (PROTOCOL.md section 4.3). */
export const defaultWhoIntervalMs = 60_000;

export type WhoView = {names: string[]; total: number};

/**
 * The who-is-online view: the names the relay last listed (valid folded usernames, checked by the
 * parser), without us and repeats, at most maxWhoNames; and the timer that asks again.
 */
export class WhoOnline {
	#view: WhoView = {names: [], total: 0};
	#timer: NodeJS.Timeout | undefined;

	constructor(
		private readonly me: string,
		private readonly intervalMs: number,
	) {}

	get view(): WhoView {
		return {names: [...this.#view.names], total: this.#view.total};
	}

	/** Takes the relay's list (a welcome's `online`, or an `online` answer) and returns the view kept. */
	update(names: readonly string[], total: number): WhoView {
		const kept = [...new Set(names.filter(name => name !== this.me))].slice(0, maxWhoNames);
		this.#view = {names: kept, total};
		return this.view;
	}

	/** Calls `ask` every intervalMs until stop(). */
	start(ask: () => void): void {
		this.stop();
		this.#timer = setInterval(ask, this.intervalMs);
		this.#timer.unref();
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
	}
}
