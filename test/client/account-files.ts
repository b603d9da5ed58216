import {ChatSession} from '../../source/client/chat-session.js';
import {ContactStore, contactsPath} from '../../source/client/contact-store.js';
import {EndToEnd} from '../../source/client/end-to-end.js';
import {loadOrCreateIdentity} from '../../source/client/identity-store.js';
import {defaultOutboxLimits, Outbox} from '../../source/client/outbox.js';
import {OutboxStore, outboxPath} from '../../source/client/outbox-store.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {parseRelayMessage, type DeliveredEnvelope, type UserRecord} from '../../source/net/messages.js';
import {next, onlineClient, registerOffline, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';

export type Emitted = {event: keyof ClientEvents; args: unknown[]};

/**
 * One process of `username`: a ChatSession on the account's real files in `dataDir`, opened the
 * way ChatClient opens them at its first welcome, so a test can stop it at any point.
 */
export function sessionOnFiles(
	relay: RelayAddress,
	dataDir: string,
	username: string,
	emit: (emitted: Emitted) => void,
	options: {lockTimeoutMs?: number} = {},
): ChatSession {
	const keys = loadOrCreateIdentity(dataDir, relay.fingerprint, username);
	const contacts = new ContactStore(contactsPath(dataDir, relay.fingerprint, username), options);
	const store = new OutboxStore(outboxPath(dataDir, relay.fingerprint, username), defaultOutboxLimits.maxOutboxMessages);
	const outbox = new Outbox(defaultOutboxLimits, changes => store.save(changes), store.load());
	return new ChatSession(new EndToEnd(username, keys, contacts), outbox, (event, ...args) => emit({event, args}));
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

/** `username` logs in by hand and takes what the relay sends: the welcome and the first queued envelope. */
export async function connectionWithEnvelope(relay: RelayAddress, dataDir: string, username: string) {
	const peer = await loggedInPeer(relay.port, username, {keys: loadOrCreateIdentity(dataDir, relay.fingerprint, username)});
	const welcome = parseRelayMessage(await peer.until(message => message.type === 'welcome'));
	const delivered = parseRelayMessage(await peer.until(message => message.type === 'message'));
	if (welcome.type !== 'welcome' || delivered.type !== 'message') throw new Error('unexpected relay messages');
	const {type: _type, ...envelope} = delivered;
	return {peer, users: welcome.users satisfies UserRecord[], envelope: envelope satisfies DeliveredEnvelope};
}
