import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';

/**
 * Attack: every account that writes to a victim becomes one of the victim's contacts, for good
 * (an account that wrote is confirmed, so it never lapses, and nothing removes a contact). With
 * maxContacts writers the victim's list is full: a friend it looks up afterwards is answered but
 * never becomes its contact, so the victim never hears the friend come or go, and the friend is
 * missing from each of its welcomes. Shown here at maxContacts 5 (the default is 5,000).
 */
describe('attack: filling a victim\'s contacts by writing to it', () => {
	it('a friend the victim looks up after strangers filled its contacts is still announced to it', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, maxContacts: 5}});
		const friendKeys = generateIdentity();
		(await loggedInPeer(relay.port, 'friend', {keys: friendKeys})).close();
		const victim = await loggedInPeer(relay.port, 'victim');
		for (let index = 0; index < 5; index++) {
			const spammer = await loggedInPeer(relay.port, `spammer${index}`);
			spammer.send(opaqueSend(`spam${index}`, 'victim'));
			await spammer.until(message => message.type === 'accepted');
			spammer.close();
		}
		const from = victim.messages().length;
		victim.send({type: 'lookup', id: 'q', names: ['friend']});
		expect(await victim.until(message => message.type === 'found', from)).toMatchObject({missing: []});

		const friend = await loggedInPeer(relay.port, 'friend', {keys: friendKeys});
		const joined = (message: PeerMessage) => message.type === 'user_joined' && (message.user as {username: string}).username === 'friend';
		await new Promise(resolve => setTimeout(resolve, 500));
		victim.send({type: 'ping', nonce: 1});
		await victim.until(message => message.type === 'pong', from);
		friend.close();
		expect(victim.messages().slice(from).some(joined)).toBe(true);
	});
});
