import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {roomEntryToJson} from '../../source/crypto/room-entry-codec.js';
import {signAccept, signInvite} from '../../source/crypto/room-log.js';
import type {ClientMessage} from '../../source/net/messages.js';
import {FloodGuard} from '../../source/relay/flood-guard.js';
import {relayForTest} from '../helpers/chat.js';
import {create, fakeKey, join, next, roomSend, roomUser, type RoomUser, type TestRoom} from '../helpers/room-kit.js';

const roomSendMessage = (id: string, body = 'gAAAA'): ClientMessage => ({type: 'room_send', room: 'dev', id, epoch: 'A'.repeat(43), n: 0, body, signature: 'A'.repeat(86)});

describe('the rate of room messages (design rooms.md section 5)', () => {
	it('FloodGuard: a room_send is charged as a send, and each other member\'s copy is owed after the fact', () => {
		const clock = {now: 0};
		const limits = {rateBurst: 100, ratePerSecond: 10, rateMaxRefused: 1000, bytesPerToken: 4096, acksPerToken: 64};
		const big = new FloodGuard(limits, () => clock.now);
		const small = new FloodGuard(limits, () => clock.now);
		const context = (members: number) => ({audience: 0, online: () => false, roomAudience: () => members - 1});
		const passed = (flood: FloodGuard, members: number) =>
			Array.from({length: 60}, (_, index) => flood.check(roomSendMessage(`m${index}`), context(members))).filter(verdict => verdict === 'ok').length;
		// 1 + 99/16 tokens a message in a room of 100: 14 of 100 tokens' worth pass; in a room of 2, all 60
		expect(passed(big, 100)).toBe(14);
		expect(passed(small, 2)).toBe(60);
		// a stage pays a token per 16 keys and its bytes: 10 + 17,000 / 4,096
		const stager = new FloodGuard({...limits, rateBurst: 14}, () => clock.now);
		const stage: ClientMessage = {type: 'room_stage', room: 'dev', keys: Array.from({length: 160}, (_, index) => fakeKey(`u${index}`))};
		expect(stager.check(stage, context(2))).toBe('ok');
		expect(stager.check(stage, context(2))).toBe('refused');
	});

	it('a flood of sends in a room of 100 hits rate_limited after the fan-out is paid; the connection survives', async () => {
		// the setup's 99 adds owe their copies too (about 900 tokens): about 1,200 are left after it
		const relay = await relayForTest({limits: {rateBurst: 2400, ratePerSecond: 1}});
		const alice = await roomUser(relay.port, 'alice');
		const room = await create(alice, 'dev');
		const members: RoomUser[] = [];
		for (let start = 0; start < 99; start += 33) {
			members.push(
				...(await Promise.all(
					Array.from({length: 33}, (_, index) => roomUser(relay.port, `m${start + index}`, {roster: false, localAddress: `127.0.1.${start + index + 1}`})),
				)),
			);
		}
		await fill(alice, room, members);
		expect(room.state!.members.size).toBe(100);
		const from = alice.peer.messages().length;
		const answered = (message: {type: string; code?: unknown}) => message.type === 'room_accepted' || (message.type === 'error' && message.code === 'rate_limited');
		alice.peer.send(...Array.from({length: 250}, (_, index) => roomSend(room, `f${index}`)));
		await expect.poll(() => alice.peer.messages().slice(from).filter(answered).length, {timeout: 10_000}).toBe(250);
		const answers = alice.peer.messages().slice(from).filter(answered);
		const accepted = answers.filter(message => message.type === 'room_accepted').length;
		// about 1,200 tokens were left after the setup, and each message costs 1 + 99/16
		expect(accepted).toBeGreaterThan(100);
		expect(accepted).toBeLessThan(200);
		expect(answers.filter(message => message.type === 'error').every(message => message.fatal === false)).toBe(true);
		// still connected: a ping is answered (refused too while the bucket is in debt, but answered)
		const pinged = alice.peer.messages().length;
		alice.peer.send({type: 'ping', nonce: 5});
		const answer = await next(alice, message => message.type === 'pong' || message.type === 'error', pinged);
		expect(answer.type === 'pong' || answer.fatal === false).toBe(true);
		expect(alice.peer.peer.closed).toBe(false);
		// the same flood in a room of two passes whole
		const solo = await roomUser(relay.port, 'solo');
		const mate = await roomUser(relay.port, 'mate');
		const quiet = await create(solo, 'quiet');
		await join(solo, quiet, mate);
		const soloFrom = solo.peer.messages().length;
		solo.peer.send(...Array.from({length: 250}, (_, index) => roomSend(quiet, `q${index}`)));
		await expect.poll(() => solo.peer.messages().slice(soloFrom).filter(answered).length, {timeout: 10_000}).toBe(250);
		expect(solo.peer.messages().slice(soloFrom).filter(message => message.type === 'room_accepted')).toHaveLength(250);
	});
});

/** Invites every member at once, has each accept and leave, then adds them all in one go. */
async function fill(admin: RoomUser, room: TestRoom, members: RoomUser[]): Promise<void> {
	const nonces = new Map(members.map(member => [member.name, randomBytes(16)]));
	const requests = admin.peer.messages().length;
	admin.peer.send(
		...members.map(member => {
			const nonce = nonces.get(member.name)!;
			const signature = signInvite({room: room.name, inviter: admin.name, invitee: member.name, nonce}, admin.keys.identity.privateKey);
			return {type: 'room_invite', room: room.name, to: member.name, nonce: toBase64Url(nonce), signature: toBase64Url(signature)};
		}),
	);
	const accepts = new Map<string, Buffer>();
	await Promise.all(
		members.map(async member => {
			await next(member, message => message.type === 'room_invitation');
			const nonce = nonces.get(member.name)!;
			const accept = signAccept({room: room.name, member: member.name, nonce}, member.keys.identity.privateKey);
			accepts.set(member.name, accept);
			member.peer.send({type: 'room_accept', room: room.name, nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
		}),
	);
	await expect.poll(() => admin.peer.messages().slice(requests).filter(message => message.type === 'room_join_request').length, {timeout: 10_000}).toBe(members.length);
	for (const member of members) member.peer.close();
	const changes = admin.peer.messages().length;
	const frames: object[] = [];
	for (const member of members) {
		const entry = room.entry(admin, {action: 'add', record: member.record, nonce: nonces.get(member.name)!, accept: accepts.get(member.name)!});
		room.apply(entry);
		frames.push({type: 'room_stage', room: room.name, keys: [fakeKey(member.name)]}, {type: 'room_change', room: room.name, entry: roomEntryToJson(entry)});
	}
	admin.peer.send(...frames);
	await expect.poll(() => admin.peer.messages().slice(changes).filter(message => message.type === 'room_changed' || message.type === 'error').length, {timeout: 10_000}).toBe(members.length);
	expect(admin.peer.messages().slice(changes).filter(message => message.type === 'error')).toEqual([]);
}
