import {expect} from 'vitest';
import {ChatSession} from '../../source/client/chat-session.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import {defaultOutboxLimits, Outbox} from '../../source/client/outbox.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {parseRelayMessage, type DeliveredEnvelope, type UserRecord} from '../../source/net/messages.js';
import {next, onlineClient, registerOffline, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';

export type Emitted = {event: keyof ClientEvents; args: unknown[]};

/**
 * One process of `username`: a ChatSession on the account's real database in `dataDir`, opened the
 * way ChatClient opens it, so a test can stop it at any point. `account.close()` lets another open it.
 */
export function sessionOnFiles(
	relay: RelayAddress,
	dataDir: string,
	username: string,
	emit: (emitted: Emitted) => void,
	/** What the session calls to end the connection (so that the relay delivers again); nothing by default. */
	redeliver?: () => void,
): {session: ChatSession; account: AccountStore} {
	const account = AccountStore.open(dataDir, relay.fingerprint, username);
	const outbox = new Outbox(defaultOutboxLimits, changes => account.outbox.save(changes), account.outbox.load());
	const {e2e, publisher} = endToEndFor(account);
	const session = new ChatSession(e2e, publisher, outbox, (event, ...args) => emit({event, args}), redeliver);
	return {session, account};
}

/** The keys of `username`'s account in `dataDir` (made on first use); the database is closed again. */
export function accountKeys(relay: RelayAddress, dataDir: string, username: string) {
	const account = AccountStore.open(dataDir, relay.fingerprint, username);
	try {
		return account.keys;
	} finally {
		account.close();
	}
}

/** alice is online; bob is registered, offline, and has one message from her waiting on the relay. */
export async function messageWaitingForBob(text: string) {
	const relay = await relayForTest();
	const bobDir = tempDir();
	const alice = await onlineClient(relay, 'alice');
	await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
	const accepted = next(alice, 'accepted');
	const id = alice.send('bob', text);
	await accepted;
	return {relay, bobDir, alice, id};
}

/**
 * `username` logs in by hand and takes what the relay sends: the welcome and the first queued
 * envelope. `prekeys`: what the welcome says the relay holds of the account's prekeys, for
 * ChatSession.attach as ChatClient passes it.
 */
export async function connectionWithEnvelope(relay: RelayAddress, dataDir: string, username: string) {
	const {peer, users, prekeys, envelopes} = await connectionWithEnvelopes(relay, dataDir, username, 1);
	return {peer, users, prekeys, envelope: envelopes[0]!};
}

/** connectionWithEnvelope, with the first `count` queued envelopes, in the order the relay sent them. */
export async function connectionWithEnvelopes(relay: RelayAddress, dataDir: string, username: string, count: number) {
	const peer = await loggedInPeer(relay.port, username, {keys: accountKeys(relay, dataDir, username)});
	const welcome = parseRelayMessage(await peer.until(message => message.type === 'welcome'));
	if (welcome.type !== 'welcome') throw new Error('unexpected relay messages');
	await expect.poll(() => peer.messages().filter(message => message.type === 'message').length).toBeGreaterThanOrEqual(count);
	const envelopes = peer
		.messages()
		.filter(message => message.type === 'message')
		.slice(0, count)
		.map(message => {
			const delivered = parseRelayMessage(message);
			if (delivered.type !== 'message') throw new Error('unexpected relay messages');
			const {type: _type, ...envelope} = delivered;
			return envelope satisfies DeliveredEnvelope;
		});
	return {peer, users: welcome.users satisfies UserRecord[], prekeys: welcome.prekeys, envelopes};
}
