import {describe, expect, it} from 'vitest';
import {inviteRow, namer, now, withStore, type OpenStore} from './room-fixtures.js';

/** Invitations to rooms (rooms-behaviours.ts registers these). */
export function roomInviteBehaviours(open: OpenStore): void {
	describe('room invitations', () => {
		it('an invitation is saved, replaced, accepted and deleted', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, bob] = [name('room'), name('bob')];
				expect(await store.invite(room, bob)).toBeUndefined();
				await store.saveInvite(inviteRow(room, bob, {time: 2 ** 42}));
				expect(await store.invite(room, bob)).toEqual(inviteRow(room, bob, {time: 2 ** 42}));
				const again = inviteRow(room, bob, {inviter: name('carol'), nonce: 'n2', signature: 's2', time: now + 1});
				await store.saveInvite(again);
				expect(await store.invite(room, bob)).toEqual(again);
				await store.acceptInvite(room, bob, 'accept-signature');
				expect(await store.invite(room, bob)).toEqual({...again, accept: 'accept-signature'});
				await store.deleteInvite(room, bob);
				expect(await store.invite(room, bob)).toBeUndefined();
				await store.acceptInvite(room, bob, 'nothing to accept');
				expect(await store.invite(room, bob)).toBeUndefined();
			});
		});

		it('inviteCounts counts the room’s invitations, the invitee’s, and the invitee’s from one inviter', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, other, bob, carol, alice, dave] = [name('room'), name('other'), name('bob'), name('carol'), name('alice'), name('dave')];
				await store.saveInvite(inviteRow(room, bob, {inviter: alice}));
				await store.saveInvite(inviteRow(room, carol, {inviter: alice}));
				await store.saveInvite(inviteRow(other, bob, {inviter: alice}));
				await store.saveInvite(inviteRow(name('third'), bob, {inviter: dave}));
				expect(await store.inviteCounts(room, bob, alice)).toEqual({room: 2, invitee: 3, inviter: 2});
				expect(await store.inviteCounts(other, carol, dave)).toEqual({room: 1, invitee: 1, inviter: 0});
				expect(await store.inviteCounts(name('none'), name('nobody'), alice)).toEqual({room: 0, invitee: 0, inviter: 0});
			});
		});

		it('invitesFor lists an invitee’s invitations not yet accepted, oldest first, at most a limit', async () => {
			await withStore(open, async store => {
				const name = namer();
				const bob = name('bob');
				const rooms = [name('r1'), name('r2'), name('r3'), name('r4')];
				for (const [index, room] of rooms.entries()) await store.saveInvite(inviteRow(room, bob, {time: now + 10 - index}));
				await store.acceptInvite(rooms[1]!, bob, 'accepted');
				await store.saveInvite(inviteRow(rooms[0]!, name('carol')));
				expect((await store.invitesFor(bob, 10)).map(invite => invite.room)).toEqual([rooms[3], rooms[2], rooms[0]]);
				expect(await store.invitesFor(bob, 1)).toEqual([inviteRow(rooms[3]!, bob, {time: now + 7})]);
				expect(await store.invitesFor(name('nobody'), 10)).toEqual([]);
			});
		});

		it('acceptedInvites lists a room’s accepted invitations, oldest first, at most a limit', async () => {
			await withStore(open, async store => {
				const name = namer();
				const room = name('room');
				const invitees = [name('a'), name('b'), name('c')];
				for (const [index, invitee] of invitees.entries()) await store.saveInvite(inviteRow(room, invitee, {time: now - index}));
				for (const invitee of invitees.slice(0, 2)) await store.acceptInvite(room, invitee, `yes-${invitee}`);
				await store.saveInvite(inviteRow(name('other'), invitees[0]!, {accept: 'yes'}));
				expect(await store.acceptedInvites(room, 10)).toEqual([
					inviteRow(room, invitees[1]!, {time: now - 1, accept: `yes-${invitees[1]}`}),
					inviteRow(room, invitees[0]!, {time: now, accept: `yes-${invitees[0]}`}),
				]);
				expect((await store.acceptedInvites(room, 1)).map(invite => invite.invitee)).toEqual([invitees[1]]);
			});
		});
	});
}
