import type {IdentityKeys} from '../crypto/identity.js';
import {ChatSession} from './chat-session.js';
import type {Emit} from './client-events.js';
import type {ClientLimits} from './client-limits.js';
import {Outbox} from './outbox.js';
import {endToEndFor} from './ratchet/account-ratchet.js';
import type {AccountStore} from './store/account-store.js';

export type AccountLogin = {username: string; keys: IdentityKeys};

/** The session over an open account's contacts, outbox and carry-over mark. Throws when its outbox is unreadable. */
export function openAccountSession(
	{account, limits}: {account: AccountStore; limits: ClientLimits},
	emit: Emit,
	redeliver: () => void,
): {session: ChatSession; outbox: Outbox} {
	const store = account.outbox;
	const outbox = new Outbox(limits, changes => store.save(changes), store.load());
	const {e2e, publisher} = endToEndFor(account);
	const session = new ChatSession(
		e2e,
		publisher,
		outbox,
		emit,
		redeliver,
		limits.whoIntervalMs,
		limits.strangerRetryMs,
		account.carryOver,
	);
	return {session, outbox};
}
