import type {RelayLimits} from './relay-options.js';

/** An account's last fresh view and when it was made. */
type MadeView = {names: string[]; madeAt: number};

/**
 * The sessions that get presence (everyone online but headless clients), in login order, and the
 * who-is-online view over them (PROTOCOL.md section 4.3): the last `whoLimit` logins, newest first.
 * The view is made again only after a login or a leave, so a `who` costs whoLimit names, not one
 * per user online. Each account gets a fresh view at most once per whoRefreshMs and the same names
 * in between, so polling `who` learns at most whoLimit names per whoRefreshMs.
 */
export class Listeners<Session> {
	private readonly sessions = new Map<string, Session>();
	/** Up to whoLimit + 1 names, newest first: one more, so that leaving out the asker still fills the view. */
	private recent: string[] | undefined;
	/** Only the accounts whose view was made within whoRefreshMs (sweep() drops the rest), oldest first. */
	private readonly made = new Map<string, MadeView>();

	constructor(
		private readonly limits: Pick<RelayLimits, 'whoLimit' | 'whoRefreshMs'>,
		private readonly clock: () => number,
	) {}

	/** A login: last in the order, also when it replaces a session of the same name. */
	add(name: string, session: Session): void {
		this.sessions.delete(name);
		this.sessions.set(name, session);
		this.recent = undefined;
	}

	remove(name: string): void {
		if (this.sessions.delete(name)) this.recent = undefined;
	}

	get(name: string): Session | undefined {
		return this.sessions.get(name);
	}

	/** By name, in login order. */
	get all(): ReadonlyMap<string, Session> {
		return this.sessions;
	}

	/** At most whoLimit names, the most recent login first, never `asker`: as `asker` last saw them, if that was within whoRefreshMs. */
	view(asker: string): string[] {
		const {whoLimit, whoRefreshMs} = this.limits;
		if (whoLimit <= 0) return [];
		const now = this.clock();
		const last = this.made.get(asker);
		if (last !== undefined && now - last.madeAt < whoRefreshMs) return last.names;
		this.recent ??= [...this.sessions.keys()].slice(-(whoLimit + 1)).reverse();
		const names = this.recent.filter(name => name !== asker).slice(0, whoLimit);
		this.made.delete(asker);
		this.made.set(asker, {names, madeAt: now});
		return names;
	}

	/** Forgets the views older than whoRefreshMs: they would be made fresh anyway. */
	sweep(): void {
		const now = this.clock();
		for (const [name, {madeAt}] of this.made) {
			if (now - madeAt < this.limits.whoRefreshMs) break;
			this.made.delete(name);
		}
	}

	/** @internal For tests: how many accounts' views are kept. */
	get madeViews(): number {
		return this.made.size;
	}
}
