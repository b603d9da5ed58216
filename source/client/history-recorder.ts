import type {ClientEvents} from './client-events.js';
import type {History} from './history.js';
// After these the client sends the same envelope again by itself: no failure of the message.
import {sendAgainCodes} from './outbox-sender.js';


/**
 * Keeps the history in step with what the client tells its listeners: each message shown, and
 * what becomes of mine (stored, delivered, refused, unsent). A message shown again after a kill
 * is stored once (see History).
 */
export function recordEvent<E extends keyof ClientEvents>(history: History, event: E, args: ClientEvents[E]): void {
	switch (event) {
		case 'message': {
			const [message] = args as ClientEvents['message'];
			history.received(message);
			return;
		}
		case 'accepted': {
			const [{id, time}] = args as ClientEvents['accepted'];
			history.stored(id, time);
			return;
		}
		case 'delivered': {
			const [{id, by}] = args as ClientEvents['delivered'];
			history.delivered(id, by);
			return;
		}
		case 'relay-error': {
			const [{code, message, ref}] = args as ClientEvents['relay-error'];
			if (ref !== null && !sendAgainCodes.has(code)) history.failed(ref, code, message);
			return;
		}
		case 'room-message': {
			const [message] = args as ClientEvents['room-message'];
			history.roomReceived(message);
			return;
		}
		case 'room-accepted': {
			const [{id, time}] = args as ClientEvents['room-accepted'];
			history.stored(id, time);
			return;
		}
		case 'room-delivered': {
			const [{id, delivered, of}] = args as ClientEvents['room-delivered'];
			history.roomDelivered(id, delivered, of);
			return;
		}
		case 'room-error': {
			const [{id, code, message}] = args as ClientEvents['room-error'];
			if (id !== undefined) history.failed(id, code, message);
			return;
		}
		case 'unsent': {
			const [{id, reason}] = args as ClientEvents['unsent'];
			history.failed(id, 'key_changed', reason);
		}
	}
}
