import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {parseClientMessage, type Envelope} from '../net/messages.js';
import {ProtocolError} from '../net/error-codes.js';
import {isValidUsername} from '../net/usernames.js';
import {lockTimeoutMs, withLock} from './file-lock.js';
import {accountDirectory, readPrivateFile, writeFileAtomicSync} from './identity-store.js';
import {outboxKey, type OutboxChanges} from './outbox.js';

export const outboxFileName = 'outbox.json';

/** Next to contacts.json: the sealed envelopes of one account on one relay that wait for the relay. */
export function outboxPath(dataDir: string, relayFingerprint: string, username: string): string {
	return join(accountDirectory(dataDir, relayFingerprint, username), outboxFileName);
}

/**
 * The outbox on disk (0600, written whole and atomically, like contacts.json). It outlives the
 * process because each envelope's counter is already spent and on disk: dropping the envelope
 * would make the recipient report a message the relay never had as withheld. It holds only
 * ciphertext sealed for the recipient (the sender cannot open it either), ids and names.
 *
 * Changes are merged into the file under `<path>.lock`, so two instances of one account never
 * drop each other's envelopes; one that both resend is a resend, which is harmless.
 */
export class OutboxStore {
	constructor(
		readonly path: string,
		private readonly maxEnvelopes: number,
	) {}

	load(): Envelope[] {
		const text = readPrivateFile(this.path);
		return text === undefined ? [] : parse(this.path, text, this.maxEnvelopes);
	}

	save({added, removed}: OutboxChanges): void {
		mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
		withLock(this.path, lockTimeoutMs, () => {
			const gone = new Set(removed);
			const kept = this.load().filter(envelope => !gone.has(outboxKey(envelope)));
			const present = new Set(kept.map(envelope => outboxKey(envelope)));
			for (const envelope of added) {
				if (!present.has(outboxKey(envelope))) kept.push(envelope);
			}
			writeFileAtomicSync(this.path, JSON.stringify({version: 1, envelopes: kept}) + '\n', {replace: true});
		});
	}
}

function parse(path: string, text: string, maxEnvelopes: number): Envelope[] {
	const damaged = (why: string) => new Error(`${path} is damaged (${why}); fix it, or remove it to drop the messages waiting in it`);
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw damaged('not JSON');
	}
	const top = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
	if (top.version !== 1 || !Array.isArray(top.envelopes)) throw damaged('not a version 1 outbox file');
	// Room for what the limit allows plus the copies a merge from another instance may add.
	if (top.envelopes.length > maxEnvelopes * 2) throw damaged('too many envelopes');
	return top.envelopes.map(entry => {
		try {
			const message = parseClientMessage({...(entry as object), type: 'send'});
			if (message.type !== 'send' || !isValidUsername(message.to)) throw damaged('an envelope is not addressed to a username');
			const {type: _type, ...envelope} = message;
			return envelope;
		} catch (error) {
			if (error instanceof ProtocolError) throw damaged(`an envelope is malformed: ${error.message}`);
			throw error;
		}
	});
}
