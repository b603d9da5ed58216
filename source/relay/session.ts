import {ProtocolError, type FatalErrorCode, type RecoverableErrorCode} from '../net/error-codes.js';
import {errorMessage, type ClientMessage, type Envelope, type LoginMessage, type RelayMessage, type RoomClientMessage} from '../net/messages.js';
import {checkUsername, foldUsername, isValidUsername, reservedUsernames} from '../net/usernames.js';
import type {AddressGroups} from './address-groups.js';
import {FloodGuard, type FloodContext} from './flood-guard.js';
import {HeldPresence} from './held-presence.js';
import {checkLogin} from './login-check.js';
import {storageFailedText} from './delivery-queue.js';
import type {RelayCore} from './relay-core.js';
import type {StoredUser} from './relay-store.js';
import {SessionQueue} from './session-queue.js';
import type {LeaveReason, SessionContext, SessionSink} from './session-sink.js';

/** One connection's conversation with the relay, from login_request to leave. */
export class Session {
	/** While set, new envelopes for this user wait in the queue: the backlog goes out first, in order. */
	catchingUp = false;
	/** Whether this client gets its contacts, presence and names in `who` (false for headless clients). */
	roster = true;
	/** When this session last logged in or sent something: the newcomer idle longest is evicted first. */
	lastActive = 0;
	/** The highest delivery number sent to this session. */
	lastSent = 0;
	/** The account's record while it is logged in: what the relay knows of users online without a read. */
	user: StoredUser | undefined;
	private username: string | undefined;
	private ended = false;
	/** This connection's rate until it logs in; then its account's, which a reconnect does not refill. */
	private flood: FloodGuard;
	/** Set from the first refusal until a message passes again: one log line per spell, not per message. */
	private throttled = false;
	/** Delivery numbers sent and not yet acknowledged: all an ack may delete. */
	private readonly unacknowledged = new Set<number>();
	/** Joins and leaves held while the list of contacts streams out (held-presence.ts). */
	private heldPresence: HeldPresence | undefined;
	/** What the rate check asks of the relay, made once rather than per message. */
	private readonly floodContext: FloodContext;
	/** What this connection asked, handled one message at a time in order. */
	private readonly queue: SessionQueue;
	/** Set while a login is handled: messages that come meanwhile are rate-checked in their turn. */
	private loggingIn = false;
	/** Messages waiting to be rate-checked in their turn. */
	private deferred = 0;
	/** Flooding: nothing more is taken from this connection, which ends once what came before is answered. */
	private cut = false;

	constructor(
		private readonly core: RelayCore,
		readonly sink: SessionSink,
		private readonly context: SessionContext,
	) {
		this.flood = new FloodGuard(core.limits, core.options.clock);
		this.floodContext = {
			get audience() {
				return core.onlineCount();
			},
			online: to => core.isOnline(to),
			// The members a room in memory has now; more are owed in the message's turn if it has more then (room()).
			roomAudience: room => (this.username === undefined ? 0 : (core.rooms.audience(room) ?? 0)),
		};
		this.queue = new SessionQueue({failed: error => this.failed(error), drained: () => this.sink.drained?.()});
		sink.send({type: 'login_request'});
	}

	get name(): string | undefined {
		return this.username;
	}

	get open(): boolean {
		return !this.ended;
	}

	get address(): AddressGroups {
		return this.context.address;
	}

	/** @internal The core sent this delivery number to this session. */
	delivered(delivery: number): void {
		this.unacknowledged.add(delivery);
		if (delivery > this.lastSent) this.lastSent = delivery;
		// Envelopes that expired unacknowledged leave their numbers behind: the oldest go first.
		if (this.unacknowledged.size > 2 * this.core.limits.maxQueuedPerUser) {
			this.unacknowledged.delete(this.unacknowledged.values().next().value!);
		}
	}

	/** @internal Whether `delivery` was sent here and not acknowledged yet; it is now. */
	acknowledged(delivery: number): boolean {
		return this.unacknowledged.delete(delivery);
	}

	/** A join or leave: sent, or held while the directory is still going out. */
	presence(message: RelayMessage): void {
		if (this.heldPresence?.hold(message)) return;
		this.sink.send(message);
	}

	holdPresence(): void {
		this.heldPresence ??= new HeldPresence();
	}

	releasePresence(): void {
		const held = this.heldPresence;
		this.heldPresence = undefined;
		for (const message of held?.messages() ?? []) this.sink.send(message);
	}

	/** Whether the connection should stop reading: as many messages wait here as may (session-queue.ts). */
	get full(): boolean {
		return this.queue.full;
	}

	/**
	 * A message arrives: its rate is checked now (a flood is cut before anything of it waits), and
	 * it is handled after every message before it. While a login is being handled, the messages
	 * behind it are checked when their turn comes instead, against the account's rate once it has
	 * logged in; after one is, every later one is too, so they are checked in the order they came.
	 */
	handle(message: ClientMessage): void {
		if (this.ended || this.cut) return;
		if (this.loggingIn || this.deferred > 0) {
			this.deferred += 1;
			this.enqueue(() => {
				this.deferred -= 1;
				if (this.ended || this.cut || !this.withinRate(message, false)) return;
				return this.dispatch(message);
			});
			return;
		}
		if (!this.withinRate(message, true)) return;
		this.enqueue(() => this.dispatch(message));
	}

	private enqueue(task: () => Promise<void> | void): void {
		this.queue.push(task);
		if (this.queue.length > this.core.stats.maxWaitingMessages) this.core.stats.maxWaitingMessages = this.queue.length;
	}

	/** Handles a message in its turn: at once when it needs no store (a ping is answered within the frame's turn), else a promise. */
	private dispatch(message: ClientMessage): Promise<void> | void {
		if (this.ended) return;
		if (this.username === undefined && message.type !== 'login' && message.type !== 'ping' && message.type !== 'pong' && message.type !== 'bye') {
			this.sink.fail('not_logged_in', 'log in first');
			return;
		}
		switch (message.type) {
			case 'login':
				this.loggingIn = true;
				return this.login(message).finally(() => {
					this.loggingIn = false;
				});
			case 'send':
				return this.route(message);
			case 'ack':
				return this.core.acknowledge(this, this.username!, message.deliveries);
			case 'lookup':
				return this.lookup(message.id, message.names);
			case 'prekeys':
				return this.core.prekeys.upload(this.username!, this.user!.identity, message).then(answer => this.answerLimited(answer));
			case 'get_bundle':
				return this.core.prekeys.bundle({name: this.username!, address: this.address}, message).then(answer => this.answerLimited(answer));
			case 'who':
				this.sink.send(this.core.whoIsOnline(this, this.username!));
				return;
			case 'ping':
				this.sink.send({type: 'pong', nonce: message.nonce});
				return;
			case 'pong':
				return;
			case 'bye':
				this.sink.close();
				this.end('quit');
				return;
			default:
				// The room messages (room-book.ts).
				this.lastActive = this.core.options.clock();
				return this.room(message);
		}
	}

	/**
	 * A room message. Its copies, one to each other member, are owed after the fact (flood-guard.ts):
	 * the rate check owed them to the members known when it came; if the room has more as its turn
	 * comes (adds before it were handled meanwhile), or once it is handled (it was not in memory),
	 * the rest are owed then, so the charge is what it would be had nothing waited.
	 */
	private async room(message: RoomClientMessage): Promise<void> {
		const copies = message.type === 'room_send' || message.type === 'room_change' ? message : undefined;
		const owe = (): boolean => {
			const audience = this.core.rooms.audience(copies!.room);
			const owed = this.flood.owedCopies(copies!);
			if (audience !== undefined && audience > owed) this.flood.oweCopies(copies!, audience - owed);
			return audience !== undefined;
		};
		const known = copies !== undefined && owe();
		const refused = await this.core.rooms.handle(this, this.username!, message);
		if (copies !== undefined && !known) owe();
		if (refused !== undefined) this.answerLimited(refused);
	}

	/** A handler failed in a way no part of it answered (a bug, or a storage failure at login): this connection pays, never the relay. */
	private failed(error: unknown): void {
		if (error instanceof ProtocolError) {
			this.sink.fail(error.code as FatalErrorCode, error.message);
			return;
		}
		this.core.options.log('internal_error', {remote: this.context.remote, error: (error as Error | undefined)?.name ?? 'error'});
		this.sink.fail('bad_message', 'the relay could not process that frame');
	}

	/** A newer login proved the same identity: this session gives way. */
	replace(): void {
		this.end('replaced');
		this.sink.fail('session_replaced', 'you logged in again from somewhere else');
	}

	/** The relay is full and an account with priority takes this newcomer's place. */
	evict(): void {
		this.end('evicted');
		this.sink.fail('server_full', 'the relay is full and gave your place to a long-standing account; try again later');
	}

	/** Idempotent: the bridge calls it whenever the connection ends, for any reason. */
	end(reason: LeaveReason): void {
		if (this.ended) return;
		this.ended = true;
		if (this.username === undefined) return;
		this.core.leave(this, this.username);
		this.core.options.log('leave', {user: this.username, reason, remote: this.context.remote});
	}

	private async login(login: LoginMessage): Promise<void> {
		if (this.username !== undefined) {
			this.reject('already_logged_in', `already logged in as ${this.username}`);
			return;
		}
		const name = checkUsername(login.username);
		if (!name.ok) {
			this.reject(name.code, name.message);
			return;
		}
		// One login of a name at a time: what it reads stays true until it is online or refused.
		await this.core.oneLoginAt(name.username, () => this.loginAs(login, name.username));
	}

	private async loginAs(login: LoginMessage, username: string): Promise<void> {
		const {access} = this.core;
		// Refused before any signature is checked: an address out of failed logins, a login with the
		// directory from an address that was sent too many pages of it lately, or a new name while
		// registrations are closed to it. The directory is asked first, and a refused registration
		// counts as a failed login (as username_taken does for a registered name): otherwise which
		// answer comes would tell registered names from free ones for nothing.
		let refusal = access.loginRefusal(this.address);
		if (refusal === undefined && login.roster !== false) refusal = access.directoryRefusal(this.address, await this.core.directoryPages(username));
		let existing: StoredUser | undefined;
		if (refusal === undefined) {
			existing = await this.core.registered(username);
			if (existing === undefined) refusal = access.registrationRefusal(this.address, this.core.registeredCount());
		}
		if (this.ended) return;
		if (refusal !== undefined) {
			if (refusal.code === 'registration_closed') access.loginFailed(this.address);
			this.core.stats.refusedLogins += 1;
			this.reject(refusal.code, refusal.message);
			return;
		}
		const verdict = checkLogin(login, {
			relayIdentity: this.core.options.relayIdentity,
			transcriptHash: this.context.transcriptHash,
			registered: () => existing,
		});
		if (!verdict.ok) {
			if (verdict.code === 'bad_login' || verdict.code === 'username_taken') this.loginFailed();
			this.reject(verdict.code, verdict.message);
			return;
		}
		const roster = login.roster !== false;
		const registration = verdict.register
			? {
					username,
					identity: login.identity,
					x25519: login.x25519,
					binding: login.binding,
					registeredAt: this.core.options.clock(),
					confirmed: false,
				}
			: undefined;
		const connectionFlood = this.flood;
		this.username = username;
		this.roster = roster;
		this.lastActive = this.core.options.clock();
		this.flood = this.core.floodGuards.of(username);
		const admitted = await this.core.admit(this, username, registration, existing);
		if (admitted === 'ok') {
			this.core.options.log('join', {user: username, remote: this.context.remote, online: this.core.onlineCount()});
			this.sink.loggedIn?.();
			return;
		}
		this.username = undefined;
		this.flood = connectionFlood;
		if (admitted === 'gone') return;
		if (admitted === 'taken') {
			// Registered meanwhile by another login (here, or on another relay).
			this.loginFailed();
			this.reject('username_taken', `${username} is registered to someone else; pick another name`);
			return;
		}
		this.end('error');
		if (admitted === 'unavailable') this.sink.fail('server_full', 'the relay cannot reach the rest of its service right now; try again later');
		else this.sink.fail('server_full', 'the relay is full; try again later');
	}

	private loginFailed(): void {
		this.core.access.loginFailed(this.address);
		this.core.stats.failedLogins += 1;
	}

	private async route(envelope: Envelope): Promise<void> {
		const {maxBodyBytes} = this.core.limits;
		const {clock} = this.core.options;
		this.lastActive = clock();
		if (envelope.body.length > maxBodyBytes) {
			this.reject('message_too_large', `an envelope body is at most ${maxBodyBytes} bytes`, envelope.id);
			return;
		}
		let to = envelope.to;
		if (!isValidUsername(to)) {
			// most clients send the name folded already: no case folding on the hot path
			to = foldUsername(to);
			if (!isValidUsername(to)) {
				this.reject('unknown_recipient', 'that is not a valid username', envelope.id);
				return;
			}
		}
		// Whether `to` exists is what a lookup tells: a name that is not a contact yet costs a lookup
		// token, paid before it is read, so `accepted` vs `unknown_recipient` is no cheaper oracle.
		if (!(await this.core.knows(this.username!, to))) {
			const paid = this.core.lookups.charge(this.username!, this.address, 1);
			if (!paid.ok) {
				this.reject('lookup_throttled', `too many names you have not met written to or looked up lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, envelope.id);
				return;
			}
		}
		const verdict = await this.core.accept(envelope, to, this.username!, clock());
		if (verdict === 'unknown_recipient') this.reject('unknown_recipient', `nobody is registered as ${to}`, envelope.id);
		else if (verdict === 'queue_full') this.reject('queue_full', `too many messages already wait for ${to}`, envelope.id);
		else if (verdict === 'quota_exceeded') {
			this.reject('quota_exceeded', 'you have as much waiting on the relay as it keeps for one sender; wait until your recipients read it', envelope.id);
		}
		else if (verdict === 'storage_failed') this.reject('storage_failed', storageFailedText, envelope.id);
	}

	/**
	 * Paid before any name is read, one lookup token per name asked whatever comes of it, so that
	 * finding out which names exist costs what looking them up does (PROTOCOL.md section 4.3).
	 */
	private async lookup(id: string, names: readonly string[]): Promise<void> {
		const paid = this.core.lookups.charge(this.username!, this.address, names.length);
		if (!paid.ok) {
			this.reject('lookup_throttled', `too many names looked up lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, id);
			return;
		}
		const folded = names.map(foldUsername);
		// Reserved names are well formed: they are simply never registered.
		if (!folded.every(name => isValidUsername(name) || reservedUsernames.has(name))) {
			this.reject('invalid_username', 'a username is 1 to 32 of a-z, 0-9, _ and -', id);
			return;
		}
		const answer = await this.core.lookup(this.username!, id, folded);
		if (answer === undefined) this.reject('storage_failed', 'the relay could not read its users; look them up again later', id);
		else this.sink.send(answer);
	}

	/**
	 * Every message after the handshake counts, logins included (each costs two signature checks).
	 * A refusal is answered in its turn (`inOrder`: after what waits before it) or at once.
	 */
	private withinRate(message: ClientMessage, inOrder: boolean): boolean {
		const verdict = this.flood.check(message, this.floodContext);
		if (verdict === 'ok') {
			this.throttled = false;
			return true;
		}
		if (verdict === 'flooding') {
			// Cut now: nothing after it is taken. What came before it is answered first, as it would have been.
			this.cut = true;
			const flooding = (): void => this.sink.fail('flooding', 'too many messages refused; the relay is closing this connection');
			if (inOrder) this.enqueue(flooding);
			else flooding();
			return false;
		}
		const {rateBurst, ratePerSecond} = this.core.limits;
		const ref = message.type === 'send' || message.type === 'lookup' || message.type === 'get_bundle' || message.type === 'room_send' ? message.id : 'room' in message ? message.room : null;
		const refusal = errorMessage('rate_limited', `slow down: at most ${rateBurst} messages at once, then ${ratePerSecond} a second`, ref);
		if (inOrder) this.enqueue(() => this.sink.send(refusal));
		else this.sink.send(refusal);
		if (!this.throttled) this.core.options.log('refused', {code: 'rate_limited', user: this.username ?? null, remote: this.context.remote});
		this.throttled = true;
		return false;
	}

	private reject(code: RecoverableErrorCode, message: string, ref: string | null = null): void {
		this.answer(errorMessage(code, message, ref));
	}

	/** An answer from a limiter of its own (prekeys, bundles): its refusals count toward `flooding`. */
	private answerLimited(message: RelayMessage): void {
		const throttled = message.type === 'error' && (message.code === 'rate_limited' || message.code === 'bundle_throttled' || message.code === 'lookup_throttled');
		if (throttled && this.flood.refusedElsewhere() === 'flooding') {
			this.sink.fail('flooding', 'too many messages refused; the relay is closing this connection');
			return;
		}
		this.answer(message);
	}

	/** Sends an answer; a refusal is logged. */
	private answer(message: RelayMessage): void {
		this.sink.send(message);
		if (message.type === 'error') this.core.options.log('refused', {code: message.code, user: this.username ?? null, remote: this.context.remote});
	}
}
