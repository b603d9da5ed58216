import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';

/**
 * Attack: a `send` to a name is answered `accepted` when it is registered and `unknown_recipient`
 * when not, for one message token (100 a second), while a lookup of the same name costs a lookup
 * token (600 an hour). And an accepted send makes the name a contact, so the next welcome brings
 * its record: the lookup bucket never comes into it.
 */
describe('attack: send as a free existence oracle', () => {
	it('once its lookup tokens are spent, an account learns nothing of names it has never met by writing to them', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, lookupBurst: 3, lookupsPerHour: 1}});
		for (const name of ['bob', 'carol']) (await loggedInPeer(relay.port, name)).close();
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send({type: 'lookup', id: 'spend', names: ['x1', 'x2', 'x3']});
		await mallory.until(message => message.type === 'found');
		mallory.send({type: 'lookup', id: 'empty', names: ['bob']});
		await mallory.until(message => message.type === 'error' && message.ref === 'empty');

		const guesses = ['bob', 'carol', ...Array.from({length: 98}, (_, index) => `guess${index}`)];
		const from = mallory.messages().length;
		const started = performance.now();
		mallory.send(...guesses.map(name => opaqueSend(`p-${name}`, name)));
		const answers = new Map<string, PeerMessage>();
		await expect
			.poll(() => {
				for (const message of mallory.messages().slice(from)) {
					const ref = (message.type === 'accepted' ? message.id : message.ref) as string | undefined;
					if (ref?.startsWith('p-')) answers.set(ref.slice(2), message);
				}
				return answers.size;
			})
			.toBe(guesses.length);
		const elapsed = performance.now() - started;
		const leaked = guesses.filter(name => answers.get(name)!.type === 'accepted' || answers.get(name)!.code === 'unknown_recipient');
		console.log(`send oracle: ${guesses.length} names probed in ${elapsed.toFixed(0)} ms with no lookup token; existence revealed for ${leaked.length}`);
		expect(leaked).toEqual([]);
	});

	it('a send does not bring the record of a name never looked up into the next welcome for free', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, lookupBurst: 1, lookupsPerHour: 1}});
		(await loggedInPeer(relay.port, 'bob')).close();
		const keys = generateIdentity();
		const mallory = await loggedInPeer(relay.port, 'mallory', {keys});
		mallory.send({type: 'lookup', id: 'spend', names: ['x1']});
		await mallory.until(message => message.type === 'found');
		mallory.send(opaqueSend('probe', 'bob'));
		await mallory.until(message => message.id === 'probe' || message.ref === 'probe');
		mallory.close();
		const back = await loggedInPeer(relay.port, 'mallory', {keys});
		const welcome = back.messages().find(message => message.type === 'welcome')!;
		expect((welcome.users as Array<{username: string}>).map(user => user.username)).not.toContain('bob');
	});

	it('writing to a contact, or answering someone who wrote, costs no lookup token', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, lookupBurst: 1, lookupsPerHour: 1}});
		(await loggedInPeer(relay.port, 'bob')).close();
		const carol = await loggedInPeer(relay.port, 'carol');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send({type: 'lookup', id: 'q', names: ['bob']});
		await alice.until(message => message.type === 'found');
		carol.send(opaqueSend('hello', 'alice'));
		await carol.until(message => message.type === 'accepted');
		alice.send(opaqueSend('to-bob', 'bob'), opaqueSend('to-carol', 'carol'), opaqueSend('to-dave', 'dave'));
		const ids = ['to-bob', 'to-carol', 'to-dave'];
		const answers = () => alice.messages().filter(message => ids.includes((message.type === 'accepted' ? message.id : message.ref) as string));
		await expect.poll(() => answers().length).toBe(3);
		expect(answers().map(message => message.type === 'accepted' ? `${String(message.id)} accepted` : `${String(message.ref)} ${String(message.code)}`).sort()).toEqual([
			'to-bob accepted',
			'to-carol accepted',
			'to-dave lookup_throttled',
		]);
	});
});
