import {everyoneConversation} from '../client/history.js';
import {sendAgainCodes} from '../client/outbox-sender.js';
import type {ChatConnection, ClientEvents, HistoryEntry} from '../client/client-events.js';
import type {CommandError, JsonCommand, Ref} from './commands.js';
import {onRoomEvent, roomsOf} from '../hooks/rooms/room-api.js';
import {runRoomCommand, type RoomAnswer} from './room-commands.js';

/** What a command answers (an error line apart): README, "Scripts and bots: --json". */
export type AnswerLine =
	| {type: 'sent'; ref: Ref; id: string; to: string; recipients?: string[]}
	| {type: 'history'; ref: Ref; with: string; messages: HistoryEntry[]}
	| {type: 'search'; ref: Ref; words: string; messages: HistoryEntry[]}
	| {type: 'forgot'; ref: Ref; with: string; count: number}
	| {type: 'lookup'; ref: Ref; ids: string[]}
	| {type: 'who'; ref: Ref; names: string[]; total: number}
	| {type: 'trusted'; ref: Ref; user: string}
	| {type: 'event'; event: 'accepted'; id: string; time: number}
	| RoomAnswer
	| ({type: 'error'} & CommandError);

/** Room errors the client handles by itself (it seals again, or sends again): the message is not settled by them. */
const roomRetryCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed', 'room_stale', 'room_conflict']);

/** who commands waiting for the relay's answer at most; one more is refused. */
export const maxWaitingWho = 16;

/**
 * Runs commands on a connection and writes their answers. A who is answered when the relay's
 * answer comes (all waiting ones by the same answer). What was sent is tracked until the relay has
 * every copy: each copy's 'accepted' event is written (the client's own receipts are not a
 * script's business), and quitting can wait for the last one (see settled()).
 */
export class CommandRunner {
	readonly #waitingWho: Ref[] = [];
	/** Messages sent by this process that the relay has not taken yet: copies still to be accepted. */
	readonly #unsettled = new Map<string, number>();
	#whenSettled: (() => void) | undefined;
	readonly #off: Array<() => void> = [];

	constructor(
		private readonly connection: ChatConnection,
		private readonly write: (line: AnswerLine) => void,
	) {
		this.#listen('online', ({names, total, asked}) => {
			if (!asked) return;
			for (const ref of this.#waitingWho.splice(0)) this.write({type: 'who', ref, names, total});
		});
		const offline = ({message}: {message: string}) => {
			for (const ref of this.#waitingWho.splice(0)) this.write({type: 'error', ref, code: 'offline', message: `no answer: ${message}`});
		};
		this.#listen('reconnecting', offline);
		this.#listen('closed', offline);
		this.#listen('accepted', ({id, time}) => {
			if (!this.#unsettled.has(id)) return;
			this.write({type: 'event', event: 'accepted', id, time});
			this.#settle(id);
		});
		this.#listen('unsent', ({id}) => this.#settle(id));
		// Not taken for now (rate_limited…), a copy goes out again by itself: it is settled by its accepted.
		this.#listen('relay-error', ({code, ref}) => ref !== null && !sendAgainCodes.has(code) && this.#settle(ref));
		// Room messages: the room-accepted event itself is forwarded (event-lines.ts).
		this.#off.push(
			onRoomEvent(connection, 'room-accepted', ({id}) => this.#settle(id)),
			onRoomEvent(connection, 'room-error', ({id, code}) => id !== undefined && !roomRetryCodes.has(code) && this.#settle(id)),
		);
	}

	/** Runs `command` (quit is the caller's) and writes its answer, or an error line. */
	run(command: Exclude<JsonCommand, {type: 'quit'}>): void {
		try {
			const answer = this.#answer(command);
			if (answer !== undefined) this.write(answer);
		} catch (error) {
			this.write({type: 'error', ref: command.ref, code: 'refused', message: error instanceof Error ? error.message : String(error)});
		}
	}

	/** Resolves once the relay has every message sent (or refused it), or after `timeoutMs`. */
	async settled(timeoutMs: number): Promise<void> {
		if (this.#unsettled.size === 0 || this.connection.status !== 'online') return;
		let timer: NodeJS.Timeout | undefined;
		await new Promise<void>(resolve => {
			this.#whenSettled = resolve;
			timer = setTimeout(resolve, timeoutMs);
		});
		clearTimeout(timer);
		this.#whenSettled = undefined;
	}

	dispose(): void {
		for (const off of this.#off.splice(0)) off();
	}

	#answer(command: Exclude<JsonCommand, {type: 'quit'}>): AnswerLine | undefined {
		const {connection} = this;
		const {ref} = command;
		switch (command.type) {
			case 'send':
				return this.#send(ref, command.to, command.text);
			case 'history': {
				const page = command.before === undefined ? {limit: command.limit} : {before: command.before, limit: command.limit};
				return {type: 'history', ref, with: command.with, messages: connection.history(command.with, page)};
			}
			case 'search':
				return {type: 'search', ref, words: command.words, messages: connection.search(command.words, command.limit)};
			case 'forget':
				return {type: 'forgot', ref, with: command.with, count: connection.forget(command.with)};
			case 'lookup':
				return {type: 'lookup', ref, ids: connection.lookup(command.names)};
			case 'trust':
				connection.trust(command.user);
				return {type: 'trusted', ref, user: command.user};
			case 'create':
			case 'invite':
			case 'kick':
			case 'admin':
			case 'accept':
			case 'decline':
			case 'leave':
			case 'rekey':
			case 'topic':
			case 'rooms':
				return runRoomCommand(roomsOf(connection), command);
			case 'who':
				if (connection.status !== 'online') return {type: 'error', ref, code: 'offline', message: 'you are offline: who is online is not known'};
				if (this.#waitingWho.length >= maxWaitingWho) return {type: 'error', ref, code: 'refused', message: `${maxWaitingWho} who commands already wait for the relay's answer`};
				this.#waitingWho.push(ref);
				connection.who();
				return undefined;
		}
	}

	#send(ref: Ref, to: string, text: string): AnswerLine {
		const {connection} = this;
		if (to.startsWith('#') && to !== everyoneConversation) {
			const id = roomsOf(connection).send(to.slice(1), text);
			this.#unsettled.set(id, 1);
			return {type: 'sent', ref, id, to};
		}
		if (to === everyoneConversation) {
			if (connection.status !== 'online') return {type: 'error', ref, code: 'offline', message: 'you are offline: a message to everyone goes only to the people online'};
			const {id, recipients} = connection.sendToEveryone(text);
			if (recipients.length > 0) this.#unsettled.set(id, recipients.length);
			return {type: 'sent', ref, id, to, recipients};
		}
		if (!connection.contacts.some(contact => contact.username === to)) {
			return {type: 'error', ref, code: 'not_a_contact', message: `${to} is not a contact yet: look them up first ({"type":"lookup","names":["${to}"]})`};
		}
		const id = connection.send(to, text);
		this.#unsettled.set(id, 1);
		return {type: 'sent', ref, id, to};
	}

	/** One copy of `id` is taken (or refused); the last one settles the message. */
	#settle(id: string): void {
		const left = this.#unsettled.get(id);
		if (left === undefined) return;
		if (left > 1) {
			this.#unsettled.set(id, left - 1);
			return;
		}
		this.#unsettled.delete(id);
		if (this.#unsettled.size === 0) this.#whenSettled?.();
	}

	#listen<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): void {
		this.connection.on(event, listener);
		this.#off.push(() => this.connection.off(event, listener));
	}
}
