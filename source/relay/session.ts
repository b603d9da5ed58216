import type {RecoverableErrorCode} from '../net/error-codes.js';
import {errorMessage, type ClientMessage, type LoginMessage, type RelayMessage, type RoomClientMessage} from '../net/messages.js';
import {checkUsername} from '../net/usernames.js';
import type {AddressGroups} from './address-groups.js';
import {HeldPresence} from './held-presence.js';
import {checkLogin} from './login-check.js';
import type {RelayCore} from './relay-core.js';
import type {StoredUser} from './relay-store.js';
import {SessionIntake} from './session-intake.js';
import {SessionSends} from './session-sends.js';
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
	/** Delivery numbers sent and not yet acknowledged: all an ack may delete. */
	private readonly unacknowledged = new Set<number>();
	/** Joins and leaves held while the list of contacts streams out (held-presence.ts). */
	private heldPresence: HeldPresence | undefined;
	/** What this connection sends, charged to its rate and handled in order (session-intake.ts). */
	private readonly intake: SessionIntake;
	/** Its sends and lookups (session-sends.ts). */
	private readonly sends: SessionSends;

	constructor(
		private readonly core: RelayCore,
		readonly sink: SessionSink,
		private readonly context: SessionContext,
	) {
		this.intake = new SessionIntake(this, core, context);
		this.sends = new SessionSends(this, core, (code, message, ref) => this.reject(code, message, ref));
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
		return this.intake.full;
	}

	/** Settles once every message this connection sent is handled (its acknowledgements, after it ended); undefined if none waits. */
	idle(): Promise<void> | undefined {
		return this.intake.idle();
	}

	/** A message from the connection: charged to the rate now, handled after every message before it. */
	handle(message: ClientMessage): void {
		this.intake.take(message);
	}

	/** @internal Handles a message in its turn: at once when it needs no store (a ping is answered within the frame's turn), else a promise. */
	dispatch(message: ClientMessage): Promise<void> | void {
		// A connection that ended with messages still waiting: its acknowledgements are still taken
		// (what it read, it read), the rest needs the connection or is sent again by the client.
		if (this.ended && message.type !== 'ack' && message.type !== 'room_ack') return;
		if (this.username === undefined && message.type !== 'login' && message.type !== 'ping' && message.type !== 'pong' && message.type !== 'bye') {
			this.sink.fail('not_logged_in', 'log in first');
			return;
		}
		switch (message.type) {
			case 'login':
				return this.login(message);
			case 'send':
				return this.sends.send(message);
			case 'ack':
				return this.core.acknowledge(this, this.username!, message.deliveries);
			case 'lookup':
				return this.sends.lookup(message.id, message.names);
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

	/** A room message; copies the rate check could not count as it came are owed in its turn, or once it is handled (session-intake.ts). */
	private async room(message: RoomClientMessage): Promise<void> {
		const known = this.intake.oweRoomCopies(message);
		const refused = await this.core.rooms.handle(this, this.username!, message);
		if (!known) this.intake.oweRoomCopies(message);
		if (refused !== undefined) this.answerLimited(refused);
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
		const connectionFlood = this.intake.flood;
		this.username = username;
		this.roster = roster;
		this.lastActive = this.core.options.clock();
		this.intake.flood = this.core.floodGuards.of(username);
		const admitted = await this.core.admit(this, username, registration, existing);
		if (admitted === 'ok') {
			this.core.options.log('join', {user: username, remote: this.context.remote, online: this.core.onlineCount()});
			this.sink.loggedIn?.();
			return;
		}
		this.username = undefined;
		this.intake.flood = connectionFlood;
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

	private reject(code: RecoverableErrorCode, message: string, ref: string | null = null): void {
		this.answer(errorMessage(code, message, ref));
	}

	/** An answer from a limiter of its own (prekeys, bundles): its refusals count toward `flooding`. */
	private answerLimited(message: RelayMessage): void {
		const throttled = message.type === 'error' && (message.code === 'rate_limited' || message.code === 'bundle_throttled' || message.code === 'lookup_throttled');
		if (throttled && this.intake.refusedElsewhere()) return;
		this.answer(message);
	}

	/** Sends an answer; a refusal is logged. */
	private answer(message: RelayMessage): void {
		this.sink.send(message);
		if (message.type === 'error') this.core.options.log('refused', {code: message.code, user: this.username ?? null, remote: this.context.remote});
	}
}
