import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {relayForTest} from '../helpers/chat.js';
import {create, next, roomUser, type RoomUser} from '../helpers/room-kit.js';

/**
 * Attack: one account makes maxInvitesPerUser rooms of its own and invites its victim to each.
 * The victim's invitations were full for maxInviteAgeMs (30 days; declined ones are sent again at
 * once): nobody else could invite it anywhere. Now one inviter holds at most a tenth of a
 * person's invitations.
 */
async function invite(admin: RoomUser, room: string, to: string): Promise<string | undefined> {
	const from = admin.peer.messages().length;
	const nonce = randomBytes(16);
	const signature = signInvite({room, inviter: admin.name, invitee: to, nonce}, admin.keys.identity.privateKey);
	admin.peer.send({type: 'room_invite', room, to, nonce: toBase64Url(nonce), signature: toBase64Url(signature)}, {type: 'ping', nonce: 9});
	const answer = await next(admin, message => message.type === 'error' || (message.type === 'pong' && message.nonce === 9), from);
	return answer.type === 'error' ? (answer.code as string) : undefined;
}

describe('attack: squatting on a person\'s invitations', () => {
	it('one inviter cannot fill the invitee\'s invitations; another inviter still gets through', async () => {
		const relay = await relayForTest({limits: {maxInvitesPerUser: 20}});
		const [mallory, alice, victim] = await Promise.all(['mallory', 'alice', 'victim'].map(name => roomUser(relay.port, name)));
		const codes: Array<string | undefined> = [];
		for (let index = 0; index < 20; index++) {
			await create(mallory!, `m${index}`);
			codes.push(await invite(mallory!, `m${index}`, 'victim'));
		}
		expect(codes.filter(code => code === undefined)).toHaveLength(2);
		expect(codes.slice(2).every(code => code === 'invite_limit')).toBe(true);
		// inviting again to a room whose invitation waits replaces it, as before
		expect(await invite(mallory!, 'm0', 'victim')).toBeUndefined();
		await create(alice!, 'real');
		expect(await invite(alice!, 'real', 'victim')).toBeUndefined();
		void victim;
	});
});
