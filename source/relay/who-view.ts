/**
 * The sessions that get presence (everyone online but headless clients), in login order, and the
 * who-is-online view over them (PROTOCOL.md section 4.3): the last `whoLimit` logins, newest first.
 * The view is made again only after a login or a leave, so a `who` costs whoLimit names, not one
 * per user online.
 */
export class Listeners<Session> {
	private readonly sessions = new Map<string, Session>();
	/** Up to whoLimit + 1 names, newest first: one more, so that leaving out the asker still fills the view. */
	private recent: string[] | undefined;

	constructor(private readonly whoLimit: number) {}

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

	/** At most whoLimit names, the most recent login first, never `asker`. */
	view(asker: string): string[] {
		if (this.whoLimit <= 0) return [];
		this.recent ??= [...this.sessions.keys()].slice(-(this.whoLimit + 1)).reverse();
		return this.recent.filter(name => name !== asker).slice(0, this.whoLimit);
	}
}
