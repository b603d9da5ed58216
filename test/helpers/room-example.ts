import {Buffer} from 'node:buffer';
import {createHash, createHmac, hkdfSync, sign} from 'node:crypto';
import {join} from 'node:path';
import {ContactStore} from '../../source/client/contact-store.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import {encodeRoomText} from '../../source/client/rooms/room-payload.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {toBase64Url, toBase64UrlPadded} from '../../source/crypto/base64url.js';
import {Fernet} from '../../source/crypto/fernet.js';
import {publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {lp, u32be, u64be} from '../../source/crypto/length-prefix.js';
import {signPrekey} from '../../source/crypto/prekeys.js';
import {keyPairFromPrivate} from '../../source/crypto/raw-keys.js';
import {roomEntryToJson} from '../../source/crypto/room-entry-codec.js';
import {chainStep, deriveEpochSecret, epochKeys} from '../../source/crypto/room-epoch.js';
import {
	applyChange,
	changeBytes,
	entryHash,
	roomConfirm,
	signAccept,
	signChange,
	signInvite,
	type RoomEntry,
	type UnsignedRoomEntry,
} from '../../source/crypto/room-log.js';
import {roomSignedBytes} from '../../source/crypto/room-message.js';
import {encodePayload} from '../../source/net/e2e-payload.js';
import {parseClientMessage, type ClientMessage, type RelayMessage} from '../../source/net/messages.js';
import {RelayCore} from '../../source/relay/relay-core.js';
import {defaultRelayLimits} from '../../source/relay/relay-options.js';
import {asyncSqliteStore} from '../../source/relay/sqlite-async.js';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';
import {RawPeer} from './raw-peer.js';
import {tempDir} from './temp-dir.js';

/**
 * PROTOCOL.md section 8.10, a room, computed from its fixed inputs with the project's own code
 * (and, where the code hides a step, by hand as the section spells it, checked against the code).
 * `values` is what the section states; `parts` how a hex value is laid out there (one line per part).
 */

const run = (first: number, length: number) => Buffer.from(Array.from({length}, (_, index) => first + index));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length = 32) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
const hmac = (key: Buffer, ...data: Buffer[]) => data.reduce((mac, part) => mac.update(part), createHmac('sha256', key)).digest();

// The identities of section 8.1.
const identityOf = (seed: Buffer, x25519: Buffer): IdentityKeys => ({identity: keyPairFromPrivate('ed25519', seed), x25519: keyPairFromPrivate('x25519', x25519)});
export const aliceKeys = identityOf(run(0x61, 32), run(0x81, 32));
export const bobKeys = identityOf(run(0xa1, 32), run(0xc1, 32));
// Bob's prekeys of section 8.1, for the 1:1 session the room key travels in.
const bobSignedPrekey = keyPairFromPrivate('x25519', Buffer.alloc(32, 0x05));
const bobOneTimePrekey = keyPairFromPrivate('x25519', Buffer.alloc(32, 0x06));

// Section 8.10's own inputs.
export const room = 'tea';
export const topic = 'green or black';
export const createTime = 1_767_225_602_000;
export const addTime = 1_767_225_603_000;
export const sentMs = 1_767_225_604_000;
export const epochSecret = Buffer.alloc(32, 0x0a);
export const inviteNonce = Buffer.alloc(16, 0x0b);
export const bodyIv = run(0xb0, 16);
export const bodyTime = 1_767_225_604;
export const messageId = 't1';
export const text = 'hello room';
/** The relay's clock at each step. */
export const relayTimes = {create: 1_767_225_602_250, invite: 1_767_225_602_500, add: 1_767_225_603_250, send: 1_767_225_604_250};

const changeLabel = 'im-tui/4 room change';
const zero32 = Buffer.alloc(32);

function record(name: string, keys: IdentityKeys) {
	return {username: name, ...publicIdentity(keys, name)};
}

function check(ok: boolean, what: string): void {
	if (!ok) throw new Error(`the code does not follow section 15: ${what}`);
}

/** The client's message as JSON text, checked: the wire's own parser reads back the same value. */
function wire(message: ClientMessage): string {
	const json = JSON.stringify(message);
	check(canonical(parseClientMessage(JSON.parse(json))) === canonical(message), `the wire parser changes ${message.type}`);
	return json;
}

/** JSON with every object's keys sorted: the same text for the same value. */
function canonical(value: unknown): string {
	return JSON.stringify(value, (_key, item: unknown) =>
		typeof item === 'object' && item !== null && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1))) : item,
	);
}

export type RoomExample = {
	values: Record<string, string>;
	parts: Record<string, Buffer[]>;
	createEntry: RoomEntry;
	addEntry: RoomEntry;
	/** What the relay sent bob and alice, in order, from alice's create on. */
	toBob: RelayMessage[];
	toAlice: RelayMessage[];
	bob: ReturnType<typeof clientOf>;
	alice: ReturnType<typeof clientOf>;
};

function clientOf(directory: string, name: string, keys: IdentityKeys) {
	const database = openAccountDatabase(join(directory, name, 'account.db'));
	const contacts = new ContactStore(database);
	return {database, contacts, ...endToEndFor({database, username: name, keys, contacts}, () => sentMs)};
}

export async function computeRoomExample(): Promise<RoomExample> {
	const aliceRecord = record('alice', aliceKeys);
	const bobRecord = record('bob', bobKeys);
	const parts: Record<string, Buffer[]> = {};

	// alice's create, a fresh epoch: E is drawn at random in real use.
	const createConfirmInput = Buffer.concat([lp('im-tui/4 room confirm', room), u64be(0)]);
	const createConfirm = hmac(epochSecret, createConfirmInput);
	check(createConfirm.equals(roomConfirm(epochSecret, room, 0)), 'confirm');
	const createUnsigned: UnsignedRoomEntry = {room, index: 0, prev: zero32, author: 'alice', time: createTime, action: 'create', topic, record: aliceRecord, confirm: createConfirm};
	parts.room_create_signed = [
		lp(changeLabel, room),
		u64be(0),
		zero32,
		lp('alice'),
		u64be(createTime),
		lp('create'),
		lp(topic),
		lp('alice'),
		aliceRecord.identity,
		aliceRecord.x25519,
		aliceRecord.binding,
		createConfirm,
	];
	const createSigned = Buffer.concat(parts.room_create_signed);
	check(createSigned.equals(changeBytes(createUnsigned)), 'the signed bytes of a create');
	const createEntry = signChange(createUnsigned, aliceKeys.identity.privateKey);
	const createHash0 = createHash('sha256').update(createSigned).update(createEntry.signature).digest();
	check(createHash0.equals(entryHash(createEntry)), 'H of a create');
	const state0 = applyChange(undefined, createEntry);
	const epoch0 = epochKeys(epochSecret, createHash0, room, [aliceRecord]);
	const next0 = hkdf(epochSecret, createHash0, lp('im-tui/4 room next', room));
	check(next0.equals(epoch0.next), 'A');
	const senders0 = hkdf(epochSecret, createHash0, lp('im-tui/4 room senders', room));
	check(hmac(senders0, lp('alice'), aliceRecord.identity).equals(epoch0.chains.get('alice')!), 'CK_0 of the create');

	// The invitation and bob's acceptance.
	parts.room_invite_signed = [lp('im-tui/4 room invite', room, 'alice', 'bob'), inviteNonce];
	const inviteSignature = signInvite({room, inviter: 'alice', invitee: 'bob', nonce: inviteNonce}, aliceKeys.identity.privateKey);
	check(inviteSignature.equals(sign(null, Buffer.concat(parts.room_invite_signed), aliceKeys.identity.privateKey)), 'the invite signature');
	parts.room_accept_signed = [lp('im-tui/4 room accept', room, 'bob'), inviteNonce];
	const accept = signAccept({room, member: 'bob', nonce: inviteNonce}, bobKeys.identity.privateKey);
	check(accept.equals(sign(null, Buffer.concat(parts.room_accept_signed), bobKeys.identity.privateKey)), 'the accept signature');

	// alice's add of bob, a derived epoch.
	const addUnsigned: UnsignedRoomEntry = {room, index: 1, prev: createHash0, author: 'alice', time: addTime, action: 'add', record: bobRecord, nonce: inviteNonce, accept};
	parts.room_add_signed = [
		lp(changeLabel, room),
		u64be(1),
		createHash0,
		lp('alice'),
		u64be(addTime),
		lp('add'),
		lp('bob'),
		bobRecord.identity,
		bobRecord.x25519,
		bobRecord.binding,
		inviteNonce,
		accept,
	];
	const addSigned = Buffer.concat(parts.room_add_signed);
	check(addSigned.equals(changeBytes(addUnsigned)), 'the signed bytes of an add');
	const addEntry = signChange(addUnsigned, aliceKeys.identity.privateKey);
	const addHash = createHash('sha256').update(addSigned).update(addEntry.signature).digest();
	check(addHash.equals(entryHash(addEntry)), 'H of an add');
	applyChange(state0, addEntry);
	parts.room_epoch_info = [lp('im-tui/4 room epoch', room, u64be(1))];
	const epochSecret1 = hkdf(next0, addHash, Buffer.concat(parts.room_epoch_info));
	check(epochSecret1.equals(deriveEpochSecret(next0, addHash, room, 1)), "E'");
	const members = [aliceRecord, bobRecord];
	const epoch1 = epochKeys(epochSecret1, addHash, room, members);
	const next1 = hkdf(epochSecret1, addHash, lp('im-tui/4 room next', room));
	check(next1.equals(epoch1.next), "A of the add's epoch");
	const senders1 = hkdf(epochSecret1, addHash, lp('im-tui/4 room senders', room));
	parts.room_alice_sender_info = [lp('alice'), aliceRecord.identity];
	parts.room_bob_sender_info = [lp('bob'), bobRecord.identity];
	const aliceChain = hmac(senders1, ...parts.room_alice_sender_info);
	const bobChain = hmac(senders1, ...parts.room_bob_sender_info);
	check(aliceChain.equals(epoch1.chains.get('alice')!) && bobChain.equals(epoch1.chains.get('bob')!), 'CK_0');
	const roomKeyPayload = encodePayload({v: 1, counter: 1, type: 'room_key', room, index: 1, head: toBase64Url(addHash), secret: toBase64Url(epochSecret1)});

	// alice's first message in the add's epoch.
	const messageKey = hmac(aliceChain, Buffer.of(1));
	const nextChain = hmac(aliceChain, Buffer.of(2));
	const step = chainStep(aliceChain);
	check(step.messageKey.equals(messageKey) && step.chainKey.equals(nextChain), 'the sender chain');
	parts.room_message_info = [lp('im-tui/4 room message', room), addHash, lp('alice'), u32be(0), lp(messageId)];
	const messageInfo = Buffer.concat(parts.room_message_info);
	const messageFernetKey = hkdf(messageKey, zero32, messageInfo);
	const payload = encodeRoomText(text, sentMs);
	const fernet = new Fernet(messageFernetKey);
	const body = fernet.encrypt(payload, {iv: bodyIv, timeSeconds: bodyTime});
	fernet.dispose();
	const messageSigned = roomSignedBytes({room, epoch: addHash, sender: 'alice', n: 0, id: messageId, body});
	const bodyBytes = Buffer.from(body, 'ascii');
	parts.room_message_signed = [...parts.room_message_info, ...Array.from({length: Math.ceil(bodyBytes.length / 32)}, (_, index) => bodyBytes.subarray(32 * index, 32 * index + 32))];
	check(messageSigned.equals(Buffer.concat(parts.room_message_signed)), 'the signed bytes of a room message');
	const messageSignature = sign(null, messageSigned, aliceKeys.identity.privateKey);

	// The wire, client → relay.
	const createChange: ClientMessage = {type: 'room_change', room, entry: roomEntryToJson(createEntry)};
	const invite: ClientMessage = {type: 'room_invite', room, to: 'bob', nonce: toBase64Url(inviteNonce), signature: toBase64Url(inviteSignature)};
	const acceptMessage: ClientMessage = {type: 'room_accept', room, nonce: toBase64Url(inviteNonce), accept: toBase64Url(accept)};
	const addChange: ClientMessage = {type: 'room_change', room, entry: roomEntryToJson(addEntry)};
	const roomSend: ClientMessage = {type: 'room_send', room, id: messageId, epoch: toBase64Url(addHash), n: 0, body, signature: toBase64Url(messageSignature)};
	const ack: ClientMessage = {type: 'room_ack', room, seq: 3};

	// The 1:1 session the room key travels in: alice's first text to bob (counter 0), then the key (counter 1).
	const directory = tempDir('im-tui-room-example-');
	const alice = clientOf(directory, 'alice', aliceKeys);
	const bob = clientOf(directory, 'bob', bobKeys);
	const insert = bob.database.prepare('INSERT INTO prekeys (kind, id, secret, public, signature, created) VALUES (?, ?, ?, ?, ?, ?)');
	const prekeySignature = signPrekey(bobKeys.identity, 'bob', 7, bobSignedPrekey.publicRaw);
	insert.run('signed', 7, Buffer.alloc(32, 0x05), bobSignedPrekey.publicRaw, prekeySignature, sentMs);
	insert.run('one-time', 41, Buffer.alloc(32, 0x06), bobOneTimePrekey.publicRaw, null, sentMs);
	const userRecord = (r: typeof aliceRecord) => ({username: r.username, online: true, identity: toBase64Url(r.identity), x25519: toBase64Url(r.x25519), binding: toBase64Url(r.binding)});
	alice.e2e.observeAll([userRecord(bobRecord)]);
	bob.e2e.observeAll([userRecord(aliceRecord)]);
	alice.e2e.startSession('bob', {signed: {id: 7, key: bobSignedPrekey.publicRaw, signature: prekeySignature}, oneTime: {id: 41, key: bobOneTimePrekey.publicRaw}});
	const first = alice.e2e.seal('bob', 'direct', 'm1', 'hello bob');
	check(first !== undefined, 'a session to seal in');
	const opened = bob.e2e.open({...first!, delivery: 1, from: 'alice', time: sentMs});
	check(opened.type === 'text', 'bob reads the first text');
	const sealedKey = alice.e2e.sealRoomKey('bob', 'k1', {room, index: 1, head: addHash, secret: epochSecret1});
	check(sealedKey !== undefined, 'a sealed room key');
	const stage: ClientMessage = {type: 'room_stage', room, keys: [{to: 'bob', id: sealedKey!.id, ratchet: sealedKey!.ratchet!, body: sealedKey!.body}]};

	const relayed = await runRelay([
		['create', 'alice', createChange],
		['invite', 'alice', invite],
		['invite', 'bob', acceptMessage],
		['add', 'alice', stage],
		['add', 'alice', addChange],
		['add', 'bob', {type: 'room_log', room, from: 0}],
		['send', 'alice', roomSend],
		['send', 'bob', ack],
	]);
	const first_ = <T extends RelayMessage['type']>(list: RelayMessage[], type: T, where: (message: Extract<RelayMessage, {type: T}>) => boolean = () => true) => {
		const found = list.find(message => message.type === type && where(message as Extract<RelayMessage, {type: T}>));
		if (found === undefined) throw new Error(`the relay sent no ${type}`);
		return JSON.stringify(found);
	};

	const values: Record<string, string> = {
		room_name: room,
		room_topic: topic,
		room_create_time: String(createTime),
		room_epoch_secret: hex(epochSecret),
		room_invite_nonce: hex(inviteNonce),
		room_add_time: String(addTime),
		room_message_id: messageId,
		room_message_sent: String(sentMs),
		room_body_iv: hex(bodyIv),
		room_body_timestamp: String(bodyTime),

		room_create_confirm_input: hex(createConfirmInput),
		room_create_confirm: hex(createConfirm),
		room_create_signed: hex(createSigned),
		room_create_signature: hex(createEntry.signature),
		room_create_H: hex(createHash0),
		room_create_A: hex(next0),
		room_create_CS: hex(senders0),
		room_create_alice_CK0: hex(epoch0.chains.get('alice')!),
		room_create_change: wire(createChange),
		relay_to_alice_create: first_(relayed.alice, 'room_change', message => message.seq === 1),
		relay_to_alice_created: first_(relayed.alice, 'room_changed', message => message.seq === 1),

		room_invite_signed: hex(Buffer.concat(parts.room_invite_signed)),
		room_invite_signature: hex(inviteSignature),
		room_invite: wire(invite),
		relay_to_bob_invitation: first_(relayed.bob, 'room_invitation'),
		room_accept_signed: hex(Buffer.concat(parts.room_accept_signed)),
		room_accept_signature: hex(accept),
		room_accept: wire(acceptMessage),
		relay_to_alice_join_request: first_(relayed.alice, 'room_join_request'),

		room_add_signed: hex(addSigned),
		room_add_signature: hex(addEntry.signature),
		room_add_H: hex(addHash),
		room_epoch_info: hex(Buffer.concat(parts.room_epoch_info)),
		room_add_epoch_secret: hex(epochSecret1),
		room_key_payload: roomKeyPayload.toString('utf8'),
		room_add_change: wire(addChange),
		relay_to_alice_added: first_(relayed.alice, 'room_changed', message => message.seq === 2),
		room_add_A: hex(next1),
		room_add_CS: hex(senders1),
		room_alice_sender_info: hex(Buffer.concat(parts.room_alice_sender_info)),
		room_alice_CK0: hex(aliceChain),
		room_bob_sender_info: hex(Buffer.concat(parts.room_bob_sender_info)),
		room_bob_CK0: hex(bobChain),

		room_alice_MK0: hex(messageKey),
		room_alice_CK1: hex(nextChain),
		room_message_info: hex(messageInfo),
		room_message_FK: hex(messageFernetKey),
		room_message_fernet_key: toBase64UrlPadded(messageFernetKey),
		room_message_payload: payload.toString('utf8'),
		room_message_body: body,
		room_message_signed: hex(messageSigned),
		room_message_signature: hex(messageSignature),
		room_send: wire(roomSend),
		relay_to_alice_accepted: first_(relayed.alice, 'room_accepted'),
		relay_to_bob_message: first_(relayed.bob, 'room_message'),
		room_ack: wire(ack),
		relay_to_alice_delivered: first_(relayed.alice, 'room_delivered'),
	};
	return {values, parts, createEntry, addEntry, toBob: relayed.bob, toAlice: relayed.alice, alice, bob};
}

type Step = 'create' | 'invite' | 'add' | 'send';

/**
 * Runs the room's messages through the relay's own core and database, alice and bob logged in on
 * connections of their own, and returns what the relay sent each of them from the first step on.
 */
async function runRelay(steps: Array<[Step, 'alice' | 'bob', ClientMessage]>): Promise<{alice: RelayMessage[]; bob: RelayMessage[]}> {
	let now = relayTimes.create - 1000;
	const relayIdentity = keyPairFromPrivate('ed25519', run(0x21, 32)).publicRaw;
	const store = asyncSqliteStore(openSqliteStore(tempDir('im-tui-room-example-relay-')));
	const core = await RelayCore.open({motd: null, limits: defaultRelayLimits, relayIdentity, clock: () => now, log: () => {}}, store);
	const connect = (name: string, keys: IdentityKeys, transcript: Buffer) => {
		const received: RelayMessage[] = [];
		const sink = {
			send: (message: RelayMessage) => received.push(message),
			sendJson: (json: string) => received.push(JSON.parse(json) as RelayMessage),
			fail: (code: string) => received.push({type: 'error', code, fatal: true} as unknown as RelayMessage),
			close: () => {},
			whenWritable: (callback: () => void) => callback(),
			hasRoom: () => true,
		};
		const session = core.openSession(sink, {remote: 'example', address: {host: name}, transcriptHash: transcript});
		session.handle(RawPeer.login({relayIdentity, transcript}, name, keys));
		return {session, received, from: received.length};
	};
	const bobSide = connect('bob', bobKeys, Buffer.alloc(32, 0xbb));
	await settled();
	const sides = {bob: bobSide, alice: connect('alice', aliceKeys, Buffer.alloc(32, 0xaa))};
	await settled();
	sides.bob.from = sides.bob.received.length;
	sides.alice.from = sides.alice.received.length;
	for (const [stepName, who, message] of steps) {
		now = relayTimes[stepName];
		sides[who].session.handle(parseClientMessage(JSON.parse(JSON.stringify(message))));
		// Messages are handled as the store answers; room messages accepted in one turn commit at its end.
		await settled();
	}
	await core.stop();
	await store.close();
	const errors = [...sides.alice.received, ...sides.bob.received].filter(message => message.type === 'error');
	if (errors.length > 0) throw new Error(`the relay refused a step of the example: ${JSON.stringify(errors)}`);
	return {alice: sides.alice.received.slice(sides.alice.from), bob: sides.bob.received.slice(sides.bob.from)};
}

/** Lets the relay handle what it was given: the store answers at once, commits wait for the end of a turn of the event loop. */
async function settled(): Promise<void> {
	for (let turn = 0; turn < 10; turn++) await new Promise(resolve => setImmediate(resolve));
}
