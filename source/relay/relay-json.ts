import type {NewEnvelope, NumberedEnvelope} from './relay-store.js';

/**
 * The relay's two most frequent messages as JSON text, written out by hand: JSON.stringify of the
 * object costs ten times as much on the hot path. Only for envelopes validated by this process
 * (parseClientMessage): id, to, ephemeral or ratchet and body are then made of A-Z a-z 0-9 _ - = only, kind
 * is a fixed word, from is a logged-in username and the numbers are safe integers, so nothing needs
 * escaping and the text is ASCII: as many bytes as characters. Same fields, same order as
 * JSON.stringify would give the message objects. An envelope has either key field, never both: a
 * `ratchet` one is sent as such, any other as `ephemeral`.
 */
export function deliveredJson(envelope: NumberedEnvelope): string {
	const key = envelope.ratchet === undefined ? `"ephemeral":"${envelope.ephemeral}"` : `"ratchet":"${envelope.ratchet}"`;
	return `{"type":"message","delivery":${envelope.delivery},"id":"${envelope.id}","to":"${envelope.to}","kind":"${envelope.kind}",${key},"body":"${envelope.body}","from":"${envelope.from}","time":${envelope.time}}`;
}

export function acceptedJson(envelope: Pick<NewEnvelope, 'id' | 'to' | 'time'>): string {
	return `{"type":"accepted","id":"${envelope.id}","to":"${envelope.to}","time":${envelope.time}}`;
}
