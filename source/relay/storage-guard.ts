import type {Logger} from './logger.js';

/**
 * Runs a store operation; a storage failure (a full disk, a locked database, a lost connection to
 * the database) is logged and comes back as undefined for the caller to answer, never thrown or
 * rejected at the relay.
 */
export async function guardStorage<T>(log: Logger, operation: string, action: () => Promise<T> | T): Promise<T | undefined> {
	try {
		return await action();
	} catch (error) {
		log('storage_error', {operation, error: (error as {code?: string}).code ?? (error as Error).name});
		return undefined;
	}
}

/**
 * Work the relay starts and does not wait for (a commit on leave, a backlog paced by its reader):
 * a failure no part of it caught (a bug) is logged and handed to `failed`, never left as an
 * unhandled rejection, which would end the process and everyone on it.
 */
export function inBackground(log: Logger, operation: string, work: Promise<unknown>, failed?: () => void): void {
	work.catch((error: unknown) => {
		log('internal_error', {operation, error: (error as Error)?.name ?? 'error'});
		failed?.();
	});
}
