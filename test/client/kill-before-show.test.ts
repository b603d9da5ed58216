import {describe, expect, it} from 'vitest';
import {SessionStore} from '../../source/client/ratchet/session-store.js';
import {withAccount} from '../helpers/account.js';
import type {ClientMessage} from '../../source/net/messages.js';
import {logIn, newClient, next, record, type RelayAddress} from '../helpers/chat.js';
import {connectionWithEnvelope, messageWaitingForBob, sessionOnFiles} from './account-files.js';

// A client killed at the wrong moment, simulated without a second process: bob's first process is
// a ChatSession built on bob's real files exactly as ChatClient builds it, fed by a hand-driven
// connection to a real relay. "Killed" means that nothing it would do next happens: its emit
// throws where the process dies, and nothing it queued for the relay is ever written. bob's next
// process is a real ChatClient on the same data directory.

class Killed extends Error {}

/** bob's next process: a real ChatClient on the same data directory. */
async function bobAgain(relay: RelayAddress, dataDir: string) {
	const client = newClient(relay, {dataDir});
	const messages = record(client, 'message');
	const rejected = record(client, 'rejected');
	await logIn(client, 'bob');
	return {client, messages, rejected};
}

describe('a client killed between saving a counter and showing the message', () => {
	it('shows it at the next start, once, and sends the receipt then', {timeout: 30_000}, async () => {
		const {relay, bobDir, alice, id} = await messageWaitingForBob('said just before the crash');
		const delivered = record(alice, 'delivered');

		const {peer, users, prekeys, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
		const toRelay: ClientMessage[] = [];
		const {session: first, account} = sessionOnFiles(relay, bobDir, 'bob', ({event}) => {
			if (event === 'message') throw new Killed('the process dies as it is about to show the message');
		});
		first.welcome(users);
		first.attach(message => toRelay.push(message), prekeys);
		expect(() => first.deliver(envelope)).toThrow(Killed);
		peer.close();
		// The process is gone: its lock with it.
		account.close();
		// The counter is spent, and what it shows is on disk with it; nothing reached the relay.
		withAccount(bobDir, relay.fingerprint, 'bob', saved => {
			// (payload counters are per ratchet session: this is the session alice's message opened)
			expect(new SessionStore(saved.database).active('alice')!.receive.next).toBe(1);
			expect(saved.contacts.inbox()).toEqual([{from: 'alice', accepted: expect.objectContaining({type: 'text', id, text: 'said just before the crash'})}]);
		});
		expect(toRelay.filter(message => message.type === 'ack')).toEqual([]);

		// The relay delivers the envelope again: a replay now, acknowledged and dropped, while the
		// message itself comes from the file.
		const second = await bobAgain(relay, bobDir);
		await expect.poll(() => second.messages.map(([message]) => message.text)).toEqual(['said just before the crash']);
		expect(second.messages[0]![0]).toMatchObject({id, from: 'alice', to: 'bob', kind: 'direct', time: envelope.time});
		await expect.poll(() => second.rejected.map(([rejection]) => rejection.code)).toEqual(['replay']);
		await expect.poll(() => delivered).toEqual([[{id, by: 'bob'}]]);
		await second.client.close();
		expect(withAccount(bobDir, relay.fingerprint, 'bob', saved => saved.contacts.inbox())).toEqual([]);

		// Settled and acknowledged: the next start shows nothing old.
		const third = await bobAgain(relay, bobDir);
		const marker = next(third.client, 'message');
		alice.send('bob', 'after');
		await marker;
		expect(third.messages.map(([message]) => message.text)).toEqual(['after']);
		expect(third.rejected).toEqual([]);
	});

	it('killed after showing it but before the next write: the next process shows it again (at least once wins)', {timeout: 30_000}, async () => {
		const {relay, bobDir, id} = await messageWaitingForBob('seen, maybe');
		const {peer, users, prekeys, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
		const shown: unknown[] = [];
		const {session: first, account} = sessionOnFiles(relay, bobDir, 'bob', ({event, args}) => {
			if (event !== 'message') return;
			shown.push(args[0]);
			throw new Killed('the process dies right after the message reached the screen');
		});
		first.welcome(users);
		first.attach(() => {}, prekeys);
		expect(() => first.deliver(envelope)).toThrow(Killed);
		peer.close();
		account.close();
		expect(shown).toHaveLength(1);

		const second = await bobAgain(relay, bobDir);
		await expect.poll(() => second.messages.map(([message]) => message.id)).toEqual([id]);
		await expect.poll(() => second.rejected.map(([rejection]) => rejection.code)).toEqual(['replay']);
	});

	it('killed after showing it and writing again, before the ack left: the redelivery is a replay, shown by nobody', {timeout: 30_000}, async () => {
		const {relay, bobDir, alice, id} = await messageWaitingForBob('shown, never acknowledged');
		const delivered = record(alice, 'delivered');

		const {peer, users, prekeys, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
		const shown: unknown[] = [];
		const toRelay: ClientMessage[] = [];
		const {session: first, account} = sessionOnFiles(relay, bobDir, 'bob', ({event, args}) => {
			if (event === 'message') shown.push(args[0]);
		});
		first.welcome(users);
		first.attach(message => toRelay.push(message), prekeys);
		first.deliver(envelope);
		expect(shown).toEqual([expect.objectContaining({id, text: 'shown, never acknowledged'})]);
		// The end of the turn: the receipt sealed (that write marks the message shown) and saved, the ack handed over...
		await new Promise(resolve => setImmediate(resolve));
		expect(toRelay.map(message => message.type)).toEqual(['send', 'ack']);
		// ...and the process dies before the connection wrote any of it.
		peer.close();
		expect(account.contacts.inbox()).toEqual([]);
		account.close();

		const second = await bobAgain(relay, bobDir);
		await expect.poll(() => second.rejected.map(([rejection]) => rejection.code)).toEqual(['replay']);
		expect(second.messages).toEqual([]);
		// The receipt waited in the outbox, so "delivered" is not lost either.
		await expect.poll(() => delivered).toEqual([[{id, by: 'bob'}]]);
	});
});
