import {everyone, type ChatAction, type ChatState, type MessageLine} from './types.js';
import {addLine, addStatus, addSystemLine, untrack, updateOwn} from './lines.js';

/** My messages: sending, stored, delivered, refused, and what waits while offline. */

export function outgoing(state: ChatState, action: Extract<ChatAction, {type: 'outgoing'}>): ChatState {
	const {id, to, recipients, text, time} = action;
	const offline = state.reconnect !== undefined;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from: state.me ?? '', to, text, time, delivery: {state: offline ? 'queued' : 'sending'}};
	if (to === everyone) line.receipts = {recipients: [...recipients], by: []};
	const next = addLine(state, to, line);
	const tracked = {...next, tracking: new Map(next.tracking).set(id, to)};
	if (offline) return {...tracked, notice: {tone: 'info', text: 'you are offline: it goes out once you are back online'}};
	const contact = state.contacts.get(to);
	if (contact !== undefined && !contact.online) {
		return {...tracked, notice: {tone: 'info', text: `${to} is offline: the relay keeps it until ${to} logs in`, about: to, reason: 'offline'}};
	}

	return tracked;
}

export function receipt(state: ChatState, id: string, by: string): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	let done = false;
	const next = updateOwn(state, id, line => {
		if (line.receipts === undefined) {
			if (line.to !== by) return line;
			done = true;
			return {...line, delivery: {state: 'delivered'}};
		}

		const {recipients, by: confirmed} = line.receipts;
		if (!recipients.includes(by) || confirmed.includes(by)) return line;
		const receipts = {recipients, by: [...confirmed, by]};
		done = receipts.by.length === recipients.length;
		return {...line, receipts, delivery: done ? {state: 'delivered'} : line.delivery};
	});
	return done ? untrack(next, id) : next;
}

export function relayError(state: ChatState, error: {code: string; message: string; ref: string | null}, time: number): ChatState {
	const {code, message, ref} = error;
	// Not taken for now: the client sends the same envelope again after a pause, by itself.
	if (code === 'rate_limited') return {...state, notice: {tone: 'info', text: 'the relay asks to slow down: sending again in a moment'}};
	if (code === 'storage_failed') return {...state, notice: {tone: 'error', text: 'the relay could not store a message: sending it again in a moment'}};
	// Said once by the client itself: messages to someone who has no prekeys yet wait, nothing failed.
	if (code === 'no_prekeys') return {...addStatus(state, 'info', message, time), notice: {tone: 'info', text: message}};
	const key = ref === null ? undefined : state.tracking.get(ref);
	if (ref === null) {
		const next = addStatus(state, 'error', `relay error (${code}): ${message}`, time);
		return {...next, notice: {tone: 'error', text: message}};
	}

	if (key === undefined) {
		// Sent before this screen started (it waited in the outbox), or a receipt: refused for good all the same.
		const text = `Something this device sent earlier was refused by the relay and will not be delivered: ${message} (${code})`;
		return {...addStatus(state, 'error', text, time), notice: {tone: 'error', text: `not delivered: ${message}`}};
	}

	if (key === everyone) {
		// One copy among several was refused; the relay does not say whose.
		const next = addSystemLine(state, everyone, 'error', `A copy of your message to everyone was refused by the relay: ${message} (${code})`, time);
		return {...next, notice: {tone: 'error', text: `a copy to everyone was refused: ${message}`, about: everyone}};
	}

	const failed = untrack(
		updateOwn(state, ref, line => ({...line, delivery: {state: 'failed', code, message}})),
		ref,
	);
	return {...failed, notice: {tone: 'error', text: `not sent to ${key}: ${message}`, about: key}};
}

/** A message that waited in the outbox was dropped for one recipient (their key changed). */
export function unsent(state: ChatState, {id, to, reason}: {id: string; to: string; reason: string}, time: number): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	if (key === everyone) return addSystemLine(state, everyone, 'error', `Your message to everyone was not sent to ${to}: ${reason}.`, time);
	return untrack(
		updateOwn(state, id, line => ({...line, delivery: {state: 'failed', code: 'key_changed', message: reason}})),
		id,
	);
}

function waiting(line: MessageLine): boolean {
	return line.delivery?.state === 'sending' || line.delivery?.state === 'queued';
}

/** The relay has my message `id` safe (it is not undone by an ack that comes after a receipt). */
export function stored(state: ChatState, id: string, time: number): ChatState {
	return updateOwn(state, id, line => (waiting(line) ? {...line, delivery: {state: 'stored', time}} : line));
}

/** My messages the relay has not taken yet now wait in the outbox. */
export function queueWaiting(state: ChatState): ChatState {
	let next = state;
	for (const id of state.tracking.keys()) {
		next = updateOwn(next, id, line => (line.delivery?.state === 'sending' ? {...line, delivery: {state: 'queued'}} : line));
	}

	return next;
}

