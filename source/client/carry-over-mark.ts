import {existsSync} from 'node:fs';
import {writeFileAtomicSync} from './identity-store.js';

export const carryOverMarkFileName = 'carried-over.json';

/**
 * Whether an account's pins from before version 2 were looked up once already (PROTOCOL.md
 * section 4.3). Without it every start would look up again the pinned names the relay does not
 * list (past its contact cap, or strangers it dropped): up to the whole lookup burst at each start.
 */
export class CarryOverMark {
	constructor(readonly path: string) {}

	get done(): boolean {
		return existsSync(this.path);
	}

	/** A mark that cannot be written is not an error: the next start carries over again. */
	mark(): void {
		try {
			writeFileAtomicSync(this.path, JSON.stringify({version: 1, carriedOverAt: new Date().toISOString()}) + '\n', {replace: true});
		} catch {}
	}
}
