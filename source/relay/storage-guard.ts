import type {Logger} from './logger.js';

/**
 * Runs a store operation; a storage failure (a full disk, a locked database) is logged and comes
 * back as undefined for the caller to answer, never thrown at the relay.
 */
export function guardStorage<T>(log: Logger, operation: string, action: () => T): T | undefined {
	try {
		return action();
	} catch (error) {
		log('storage_error', {operation, error: (error as {code?: string}).code ?? (error as Error).name});
		return undefined;
	}
}
