// Established 1:1 ratchet sessions between one real client (its EndToEnd over its account
// database) and many others held as crypto alone, for part 3 of bench/rooms.mjs: a session is
// started from the other's bundle, the client's first text opened on the other side and answered
// with a receipt, so the client's next seal goes in a confirmed session, as with anyone it has
// talked with.
import {fromBase64Url, toBase64Url} from '../dist/crypto/base64url.js';
import {initRatchetResponder, parseHeader} from '../dist/crypto/double-ratchet.js';
import {generateOneTimePrekeys, generateSignedPrekey} from '../dist/crypto/prekeys.js';
import {openRatchet, sealRatchet} from '../dist/crypto/ratchet-envelope.js';
import {x3dhRespond} from '../dist/crypto/x3dh.js';
import {encodePayload} from '../dist/net/e2e-payload.js';

const noSkipped = () => undefined;
let delivery = 0;

const party = someone => ({name: someone.name, identity: someone.record.identity, x25519: someone.record.x25519});

/** `client` (rooms-fixture.mjs joinedClient) pins every one of `others` and has a confirmed session with each. */
export function establishSessions(client, clientPerson, others) {
	const verdicts = client.e2e.observeAll(
		others.map(({name, record}) => ({username: name, online: true, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)})),
	);
	if (verdicts.some(verdict => verdict !== 'pinned' && verdict !== 'same')) throw new Error(`pinning failed: ${verdicts.find(verdict => verdict !== 'pinned')}`);
	const me = party(clientPerson);
	for (const other of others) {
		const them = party(other);
		const signed = generateSignedPrekey(other.keys.identity, other.name, 1);
		const [oneTime] = generateOneTimePrekeys(1, 1);
		if (client.e2e.seal(other.name, 'direct', `hello-${other.name}`, 'hello') !== undefined) throw new Error(`a session with ${other.name} existed already`);
		client.e2e.startSession(other.name, {signed: {id: signed.id, key: signed.keyPair.publicRaw, signature: signed.signature}, oneTime: {id: oneTime.id, key: oneTime.keyPair.publicRaw}});
		const [first] = client.e2e.sealWaiting(other.name, 1);
		const header = fromBase64Url(first.ratchet);
		const parsed = parseHeader(header);
		const shared = x3dhRespond({
			responder: {...them, x25519Secret: other.keys.x25519.privateKey},
			initiator: me,
			signed: {id: parsed.prekey.signedId, secret: signed.keyPair.privateKey},
			oneTime: {id: parsed.prekey.oneTimeId, secret: oneTime.keyPair.privateKey},
			baseKey: parsed.baseKey,
		});
		const opened = openRatchet({state: initRatchetResponder({sharedSecret: shared, signedPrekey: signed.keyPair}), sender: me, recipient: them, header, id: first.id, kind: 'direct', body: first.body, skipped: noSkipped});
		const id = `receipt-${other.name}`;
		const reply = sealRatchet({state: opened.state, sender: them, recipient: me, baseKey: parsed.baseKey, id, kind: 'direct', payload: encodePayload({v: 1, counter: 0, type: 'receipt', ids: [first.id]})});
		const got = client.e2e.open({id, to: client.name, from: other.name, kind: 'direct', ratchet: toBase64Url(reply.header), body: reply.body, delivery: ++delivery, time: Date.now()});
		if (got.type !== 'receipt') throw new Error(`the receipt of ${other.name} was ${got.type}: ${got.reason ?? ''}`);
		// Shown and settled, as the client's turn does.
		client.e2e.shown(other.name, {type: 'receipt', id, ids: [first.id], time: 0, gap: 0});
		client.e2e.settle([]);
	}
}
