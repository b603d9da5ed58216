import {Buffer} from 'node:buffer';
import {createHash, createHmac, hkdfSync} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {RoomKeeper, roomKeySecret} from '../source/client/rooms/room-keeper.js';
import {fromBase64Url} from '../source/crypto/base64url.js';
import {Fernet} from '../source/crypto/fernet.js';
import {lp} from '../source/crypto/length-prefix.js';
import {roomEntryFromJson, type RoomEntryJson} from '../source/crypto/room-entry-codec.js';
import {applyChange, RoomLogError, signChange, verifyAccept, verifyInvite} from '../source/crypto/room-log.js';
import {openRoomMessage, verifyRoomMessage} from '../source/crypto/room-message.js';
import {parseRelayMessage, type RelayMessage, type RoomChangeItem} from '../source/net/messages.js';
import {aliceKeys, bobKeys, computeRoomExample, epochSecret, room, sentMs, text as roomText} from './helpers/room-example.js';

/** Reads the `name: value` lines (indented lines continue a value) of the fenced blocks in section 8.10. */
function exampleValues(markdown: string): Record<string, string> {
	const start = markdown.indexOf('\n### 8.10 ');
	if (start === -1) throw new Error('PROTOCOL.md has no "### 8.10"');
	const rest = markdown.slice(start + 1);
	const end = rest.indexOf('\n## ');
	const section = end === -1 ? rest : rest.slice(0, end);
	const values: Record<string, string> = {};
	for (const [, block] of section.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)) {
		let current: string | undefined;
		for (const line of block!.split('\n')) {
			const field = /^([A-Za-z0-9_]+):(.*)$/.exec(line);
			if (field) {
				current = field[1]!;
				if (current in values) throw new Error(`section 8.10 states ${current} twice`);
				values[current] = field[2]!.trim();
			} else if (current !== undefined && /^\s+\S+$/.test(line)) {
				values[current] += line.trim();
			} else if (line !== '') {
				throw new Error(`section 8.10 has an unreadable line: ${JSON.stringify(line)}`);
			}
		}
	}
	return values;
}

const stated = exampleValues(readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8'));
const example = await computeRoomExample();
const computed = example.values;

function text(name: string): string {
	const value = stated[name];
	if (value === undefined) throw new Error(`section 8.10 does not state ${name}`);
	return value;
}

function bytes(name: string): Buffer {
	const value = text(name);
	if (!/^(?:[0-9a-f]{2})+$/.test(value)) throw new Error(`${name} is not lower-case hex`);
	return Buffer.from(value, 'hex');
}

const json = (name: string) => JSON.parse(text(name)) as Record<string, unknown>;
const entryOf = (name: string) => roomEntryFromJson((json(name) as {entry: RoomEntryJson}).entry);
const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));

function relayed(list: RelayMessage[], type: RelayMessage['type'], seq?: number): RelayMessage {
	const found = list.find(message => message.type === type && (seq === undefined || (message as {seq?: number}).seq === seq));
	if (found === undefined) throw new Error(`the relay sent no ${type}`);
	return found;
}

describe('PROTOCOL.md section 8.10, a room', () => {
	it('states exactly the values the code computes, no more and no fewer', () => {
		expect(Object.keys(stated).sort()).toEqual(Object.keys(computed).sort());
	});

	it.each(Object.keys(computed))('%s', name => {
		expect(stated[name]).toBe(computed[name]);
	});

	it('hashes and verifies the stated entries, and the log they make holds together', () => {
		const create = entryOf('room_create_change');
		const add = entryOf('room_add_change');
		expect(createHash('sha256').update(bytes('room_create_signed')).update(bytes('room_create_signature')).digest().toString('hex')).toBe(text('room_create_H'));
		expect(createHash('sha256').update(bytes('room_add_signed')).update(bytes('room_add_signature')).digest().toString('hex')).toBe(text('room_add_H'));
		const state = applyChange(applyChange(undefined, create), add);
		expect(state.head.toString('hex')).toBe(text('room_add_H'));
		expect([...state.members.keys()].sort()).toEqual(['alice', 'bob']);
		if (create.action !== 'create' || add.action !== 'add') throw new Error('not a create and an add');
		expect(verifyInvite({room, inviter: 'alice', invitee: 'bob', nonce: bytes('room_invite_nonce'), signature: bytes('room_invite_signature')}, create.record.identity)).toBe(true);
		expect(verifyAccept({room, member: 'bob', nonce: add.nonce, accept: add.accept}, add.record.identity)).toBe(true);
		// Signed for another room or another member, the acceptance does not verify.
		expect(verifyAccept({room: 'coffee', member: 'bob', nonce: add.nonce, accept: add.accept}, add.record.identity)).toBe(false);
		// The add signed again by bob (not a member yet) is refused.
		const {signature: _signature, ...unsigned} = add;
		expect(() => applyChange(applyChange(undefined, create), signChange(unsigned, bobKeys.identity.privateKey))).toThrow(RoomLogError);
	});

	it('derives the stated secrets from the stated inputs', () => {
		const next = hkdf(bytes('room_epoch_secret'), bytes('room_create_H'), lp('im-tui/4 room next', room));
		expect(next.toString('hex')).toBe(text('room_create_A'));
		expect(hkdf(bytes('room_create_A'), bytes('room_add_H'), bytes('room_epoch_info')).toString('hex')).toBe(text('room_add_epoch_secret'));
		expect(hkdf(bytes('room_add_epoch_secret'), bytes('room_add_H'), lp('im-tui/4 room senders', room)).toString('hex')).toBe(text('room_add_CS'));
		expect(createHmac('sha256', bytes('room_add_CS')).update(bytes('room_alice_sender_info')).digest('hex')).toBe(text('room_alice_CK0'));
		expect(createHmac('sha256', bytes('room_add_CS')).update(bytes('room_bob_sender_info')).digest('hex')).toBe(text('room_bob_CK0'));
		expect(hkdf(bytes('room_alice_MK0'), Buffer.alloc(32), bytes('room_message_info')).toString('hex')).toBe(text('room_message_FK'));
		const fernet = new Fernet(bytes('room_message_FK'));
		expect(fernet.encrypt(text('room_message_payload'), {iv: bytes('room_body_iv'), timeSeconds: Number(text('room_body_timestamp'))})).toBe(text('room_message_body'));
		expect(Buffer.concat([bytes('room_message_info'), Buffer.from(text('room_message_body'), 'ascii')]).toString('hex')).toBe(text('room_message_signed'));
	});

	it('opens and verifies the stated message with the code, and nothing relabelled verifies', () => {
		const epoch = bytes('room_add_H');
		const body = text('room_message_body');
		const signature = bytes('room_message_signature');
		const fields = {room, epoch, sender: 'alice', n: 0, id: 't1', body};
		const aliceIdentity = fromBase64Url((json('relay_to_bob_invitation').from as {identity: string}).identity, 32);
		expect(verifyRoomMessage({...fields, signature}, aliceIdentity)).toBe(true);
		expect(openRoomMessage({...fields, messageKey: bytes('room_alice_MK0')}).toString('utf8')).toBe(text('room_message_payload'));
		for (const relabelled of [{...fields, id: 't2'}, {...fields, n: 1}, {...fields, room: 'coffee'}, {...fields, sender: 'bob'}, {...fields, epoch: bytes('room_create_H')}]) {
			expect(verifyRoomMessage({...relabelled, signature}, aliceIdentity)).toBe(false);
			expect(() => openRoomMessage({...relabelled, messageKey: bytes('room_alice_MK0')})).toThrow();
		}
	});

	it("is what bob's client reads: the log, the key that came with his add, and alice's message", () => {
		const {bob, toBob} = example;
		const addItem = parseRelayMessage(relayed(toBob, 'room_change', 2)) as RoomChangeItem;
		expect(addItem.key).toMatchObject({from: 'alice', to: 'bob', kind: 'direct'});
		const opened = bob.e2e.openRoomKey('alice', addItem.key!);
		if (opened.type !== 'key') throw new Error(`the room key did not open: ${opened.reason}`);
		expect(JSON.stringify(opened.payload)).toBe(text('room_key_payload'));
		const add = roomEntryFromJson(addItem.entry);
		const secret = roomKeySecret(opened.payload, add);
		expect(secret.toString('hex')).toBe(text('room_add_epoch_secret'));

		const log = relayed(toBob, 'room_log');
		if (log.type !== 'room_log') throw new Error('not a log');
		expect(log.entries.map(entry => entry.index)).toEqual([0, 1]);
		const keeper = new RoomKeeper(bob.database, 'bob', bobKeys, () => sentMs);
		keeper.applyHistory(room, [roomEntryFromJson(log.entries[0]!)]);
		keeper.applyChange(add, addItem.seq, secret);
		const message = parseRelayMessage(json('relay_to_bob_message'));
		if (message.type !== 'room_message') throw new Error('not a room message');
		const {type: _type, ...item} = message;
		expect(keeper.open(item)).toMatchObject({type: 'text', from: 'alice', id: 't1', text: roomText, sent: sentMs});
		expect(keeper.open({...item, seq: item.seq + 1})).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it("is what alice's client seals: the same epoch, chain and payload", () => {
		const {alice} = example;
		const keeper = new RoomKeeper(alice.database, 'alice', aliceKeys, () => sentMs);
		keeper.applyChange(entryOf('relay_to_alice_create'), 1, epochSecret);
		keeper.applyChange(entryOf('room_add_change'), 2);
		const sealed = keeper.seal(room, 't1', roomText, sentMs);
		const send = json('room_send');
		expect({epoch: sealed.epoch, n: sealed.n}).toEqual({epoch: send.epoch, n: send.n});
		expect(new Fernet(bytes('room_message_FK')).decrypt(sealed.body).toString('utf8')).toBe(text('room_message_payload'));
		const fields = {room, epoch: bytes('room_add_H'), sender: 'alice', n: 0, id: 't1', body: sealed.body, signature: fromBase64Url(sealed.signature, 64)};
		expect(verifyRoomMessage(fields, aliceKeys.identity.publicRaw)).toBe(true);
	});
});
