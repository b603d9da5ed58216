import {Buffer} from 'node:buffer';
import {newMessageId} from '../end-to-end.js';
import {roomConversation} from '../history.js';
import {rateLimitPauseMs} from '../outbox-sender.js';
import type {RoomContext} from './room-context.js';
import {RoomKeyError} from './room-keeper.js';
import {maxRoomTextBytes} from './room-payload.js';
import type {WaitingText} from './room-sending-store.js';

/** After these the same sealed item goes again a little later. */
const laterCodes: ReadonlySet<string> = new Set(['rate_limited', 'room_backlog_full', 'storage_failed', 'quota_exceeded']);
/** After these the text is sealed again once this device holds the room's next epoch. */
const resealCodes: ReadonlySet<string> = new Set(['room_stale', 'room_needs_rekey']);

/**
 * This account's texts to rooms. Each waits in the database (room_outbox) from send() until the
 * relay took it (room_accepted), and goes in order: sealed in the room's current epoch when it
 * can be (a member, the stream caught up, no rekey needed), kept as sealed so a resend after a
 * drop is the same item, and sealed again in the next epoch when the relay says its epoch is
 * stale. A text never goes before one written earlier that waits in another epoch.
 */
export class TextSender {
	/** id → room, of texts sent on this connection with no answer yet. */
	readonly #inFlight = new Map<string, string>();
	/** id → the epoch (B64U) it was refused in: sealed again once the room has another. */
	readonly #stale = new Map<string, string>();
	#pause: NodeJS.Timeout | undefined;

	constructor(
		private readonly ctx: RoomContext,
		private readonly caughtUp: (room: string) => boolean,
	) {}

	/** Keeps `text` to send to `room`, with its history entry, in one transaction; returns its id. */
	send(room: string, text: string): string {
		const length = Buffer.byteLength(text, 'utf8');
		if (length === 0) throw new Error('a message needs some text');
		if (length > maxRoomTextBytes) throw new Error(`a message is at most ${maxRoomTextBytes} bytes, this one is ${length}`);
		const id = newMessageId();
		const sent = this.ctx.clock();
		this.ctx.sending.transaction(() => {
			this.ctx.sending.addText({room, id, text, sent});
			this.ctx.history?.sent({id, author: this.ctx.me, to: roomConversation(room), recipients: [], text, time: sent});
		});
		this.ctx.host.schedule();
		return id;
	}

	detach(): void {
		this.#inFlight.clear();
		this.#stale.clear();
		clearTimeout(this.#pause);
		this.#pause = undefined;
	}

	/** Whether `id` is one of mine in flight (a refusal with it as ref is for this sender). */
	owns(id: string): boolean {
		return this.#inFlight.has(id);
	}

	pump(): void {
		if (this.#pause !== undefined || !this.ctx.host.online()) return;
		for (const room of this.ctx.sending.rooms()) {
			try {
				this.#pumpRoom(room);
			} catch (error) {
				this.ctx.host.localError(`could not seal your messages to #${room}`, error);
			}
		}
	}

	#pumpRoom(room: string): void {
		const {keeper, sending} = this.ctx;
		const texts = sending.texts(room);
		if (texts.length === 0) return;
		const view = keeper.room(room);
		if (view === undefined || view.status === 'left' || view.status === 'removed') {
			this.#failAll(room, texts, view === undefined ? `#${room} does not exist here` : `you are no longer a member of #${room}`);
			return;
		}
		const head = keeper.state(room)?.head.toString('base64url');
		let epoch: string | undefined;
		for (const text of texts) {
			if (this.#inFlight.has(text.id)) {
				epoch = text.sealed?.epoch;
				continue;
			}
			const staleIn = this.#stale.get(text.id);
			if (staleIn !== undefined) {
				if (staleIn === head) return;
				this.#stale.delete(text.id);
				delete text.sealed;
			}
			if (text.sealed === undefined) {
				if (view.status !== 'member' || view.needsRekey || !this.caughtUp(room) || this.#removing(room)) return;
				const sealed = this.#seal(text);
				if (sealed === undefined) return;
				text.sealed = sealed;
			}
			// In order: not past a text still out in another epoch (it comes back stale, and goes again first).
			if (epoch !== undefined && text.sealed.epoch !== epoch) return;
			epoch = text.sealed.epoch;
			if (!this.ctx.host.transmit({type: 'room_send', room, id: text.id, ...text.sealed})) return;
			this.#inFlight.set(text.id, room);
		}
	}

	/**
	 * A removal of mine waits to be committed: nothing new is sealed in the epoch it ends, or a relay
	 * that held my change back would keep the member I removed reading what I write.
	 */
	#removing(room: string): boolean {
		return this.ctx.sending.changes(room).some(change => change.request.action === 'remove');
	}

	#seal(text: WaitingText): WaitingText['sealed'] {
		try {
			return this.ctx.sending.transaction(() => {
				const sealed = this.ctx.keeper.seal(text.room, text.id, text.text, text.sent);
				this.ctx.sending.seal(text.room, text.id, sealed);
				return sealed;
			});
		} catch (error) {
			if (error instanceof RoomKeyError) return undefined;
			throw error;
		}
	}

	accepted(room: string, id: string, seq: number, time: number): void {
		if (this.#inFlight.get(id) !== room) return;
		this.#inFlight.delete(id);
		try {
			this.ctx.sending.transaction(() => {
				this.ctx.keeper.noteSent(room, id, seq);
				this.ctx.sending.dropText(room, id);
			});
		} catch (error) {
			this.ctx.host.localError('could not note that the relay took your message', error);
		}
		this.ctx.host.emit('room-accepted', {room, id, seq, time});
		this.ctx.host.schedule();
	}

	delivered(room: string, id: string, delivered: number, of: number): void {
		try {
			if (!this.ctx.keeper.delivered(room, id, delivered, of)) return;
		} catch (error) {
			this.ctx.host.localError('could not note who read your message', error);
			return;
		}
		this.ctx.host.emit('room-delivered', {room, id, delivered, of});
	}

	/** A refusal of my text `id`; false when it is not one in flight. */
	refused(id: string, code: string, message: string): boolean {
		const room = this.#inFlight.get(id);
		if (room === undefined) return false;
		this.#inFlight.delete(id);
		const text = this.ctx.sending.texts(room).find(waiting => waiting.id === id);
		if (text === undefined) return true;
		if (resealCodes.has(code)) {
			const head = this.ctx.keeper.state(room)?.head.toString('base64url');
			this.#stale.set(id, text.sealed?.epoch ?? head ?? '');
			this.#later(0);
		} else if (laterCodes.has(code)) {
			this.#later(rateLimitPauseMs * 2);
		} else {
			this.ctx.sending.dropText(room, id);
			this.ctx.host.emit('room-error', {room, code, message, id});
		}
		return true;
	}

	/** What went out after a refused text is refused too, or taken: either way, the pump goes on once the answers are in. */
	#later(delay: number): void {
		if (delay === 0) {
			this.ctx.host.schedule();
			return;
		}
		clearTimeout(this.#pause);
		this.#pause = setTimeout(() => {
			this.#pause = undefined;
			this.ctx.host.schedule();
		}, delay);
		this.#pause.unref();
	}

	#failAll(room: string, texts: readonly WaitingText[], message: string): void {
		this.ctx.sending.transaction(() => {
			for (const text of texts) this.ctx.sending.dropText(room, text.id);
		});
		for (const text of texts) {
			this.#inFlight.delete(text.id);
			this.ctx.host.emit('room-error', {room, code: 'not_room_member', message, id: text.id});
		}
	}
}
