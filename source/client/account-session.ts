import {dirname, join} from 'node:path';
import type {IdentityKeys} from '../crypto/identity.js';
import {CarryOverMark, carryOverMarkFileName} from './carry-over-mark.js';
import {ChatSession} from './chat-session.js';
import type {Emit} from './client-events.js';
import type {ClientLimits} from './client-limits.js';
import {ContactStore, contactsPath} from './contact-store.js';
import {EndToEnd} from './end-to-end.js';
import {Outbox} from './outbox.js';
import {OutboxStore, outboxPath} from './outbox-store.js';

export type AccountLogin = {username: string; keys: IdentityKeys};

/**
 * Opens an account's files on this relay (its contacts, outbox and carry-over mark, under
 * `dataDir`) and the session over them. Throws when a file is unreadable.
 */
export function openAccountSession(
	{dataDir, relayFingerprint, login, limits}: {dataDir: string; relayFingerprint: string; login: AccountLogin; limits: ClientLimits},
	emit: Emit,
	redeliver: () => void,
): {session: ChatSession; outbox: Outbox} {
	const contacts = new ContactStore(contactsPath(dataDir, relayFingerprint, login.username));
	const store = new OutboxStore(outboxPath(dataDir, relayFingerprint, login.username), limits.maxOutboxMessages);
	const outbox = new Outbox(limits, changes => store.save(changes), store.load());
	const session = new ChatSession(
		new EndToEnd(login.username, login.keys, contacts),
		outbox,
		emit,
		redeliver,
		limits.whoIntervalMs,
		limits.strangerRetryMs,
		new CarryOverMark(join(dirname(contacts.path), carryOverMarkFileName)),
	);
	return {session, outbox};
}
