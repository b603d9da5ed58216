import type {SqliteDatabase} from './store/account-database.js';

const setting = 'carried-over-at';

/**
 * Whether an account's pins from before version 2 were looked up once already (PROTOCOL.md
 * section 4.3). Without it every start would look up again the pinned names the relay does not
 * list (past its contact cap, or strangers it dropped): up to the whole lookup burst at each start.
 */
export class CarryOverMark {
	constructor(private readonly db: SqliteDatabase) {}

	get done(): boolean {
		return this.db.prepare('SELECT 1 FROM settings WHERE name = ?').get(setting) !== undefined;
	}

	/** A mark that cannot be written is not an error: the next start carries over again. */
	mark(): void {
		try {
			this.db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(setting, new Date().toISOString());
		} catch {}
	}
}
