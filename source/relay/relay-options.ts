import {maxRoomAdmins, maxRoomMembers} from '../crypto/room-log.js';
import {protocolDefaults} from '../net/limits.js';

/** Every bound the relay enforces, as named options with defaults (PROTOCOL.md section 6). */
export type RelayLimits = {
	maxFrameBytes: number;
	maxBatchMessages: number;
	maxBodyBytes: number;
	maxQueuedPerUser: number;
	/** Envelopes from one sender that may wait for one recipient: a share of maxQueuedPerUser. */
	maxQueuedPerSender: number;
	maxQueueAgeMs: number;
	handshakeTimeoutMs: number;
	loginTimeoutMs: number;
	/** Bytes of a first frame (client_hello) at most: a valid one is about 130. */
	maxHelloBytes: number;
	/** Bytes of a frame at most between the handshake and the login: a login batch is under 1 KiB. */
	maxPreLoginFrameBytes: number;
	/** A frame begun must end within this long (its line feed), or the connection is dropped as idle. */
	partialFrameTimeoutMs: number;
	/** Logged-in connections at most; past it, a login with priority takes a newcomer's place. */
	maxConnections: number;
	/** Connections not logged in yet at most; past it, the oldest (if a second old) makes room. */
	maxPendingConnections: number;
	/** Open connections from one IPv4 address or IPv6 /64, logged in or not. */
	maxConnectionsPerAddress: number;
	/** ...from one IPv6 /56 (a home)... */
	maxConnectionsPer56: number;
	/** ...and from one IPv6 /48 (a site). */
	maxConnectionsPer48: number;
	/** New connections one address (IPv4, IPv6 /64) may open at once, then handshakesPerMinute; an IPv6 /48 four times that. */
	handshakeBurst: number;
	handshakesPerMinute: number;
	/** Failed logins one address may make at once, then failedLoginsPerMinute: each costs two signature checks. */
	failedLoginBurst: number;
	failedLoginsPerMinute: number;
	/** Names one address may register at once, then registrationsPerHourPerAddress. */
	registrationBurstPerAddress: number;
	registrationsPerHourPerAddress: number;
	/** Names the relay registers at once from everyone, then registrationsPerHour. */
	registrationBurst: number;
	registrationsPerHour: number;
	/** Pages of contacts (200 records each) the logins from one address may be sent at once, then a minute. */
	directoryPagesBurst: number;
	directoryPagesPerMinute: number;
	/** Registered names at most; past it, newcomers hear registration_closed and every account keeps working. */
	maxRegisteredUsers: number;
	/** Chosen contacts (looked up or written to) an account may have (PROTOCOL.md section 4.3). */
	maxContacts: number;
	/** Inbound contacts (they wrote to it) an account keeps; a new writer past it evicts the oldest. */
	maxInboundContacts: number;
	/** While at most this many names are registered, everyone is everyone's contact; 0 never. */
	communityMaxUsers: number;
	/** Names in the who-is-online view; 0 lists nobody. */
	whoLimit: number;
	/** An account's who-is-online view is made fresh at most once per this long; meanwhile it gets the same names. */
	whoRefreshMs: number;
	/** Lookup tokens (one per name asked) an account may spend at once, then lookupsPerHour. */
	lookupBurst: number;
	lookupsPerHour: number;
	/** ...and one address (IPv4, IPv6 /64; its /24 or /48 four times that), whatever the account. */
	lookupBurstPerAddress: number;
	lookupsPerHourPerAddress: number;
	/** One-time prekeys the relay holds per user; keys past it are ignored. */
	maxOneTimePrekeys: number;
	/** `prekeys` messages one user may send at once, then a minute; past it rate_limited. */
	prekeyUploadsPerMinute: number;
	/** Bundles one account may ask for at once, then bundleRatePerMinute; past it bundle_throttled. */
	bundleBurst: number;
	bundleRatePerMinute: number;
	/** One requester gets at most one of one target's one-time prekeys per this long; later bundles carry none. */
	bundleOneTimeEveryMs: number;
	/** One-time prekeys of one target handed out per hour, to everyone together; past it bundles carry none. */
	maxOneTimeClaimsPerHour: number;
	/** A claim that leaves a user's pool with fewer one-time prekeys than this tells the user, if online, with a prekey_count. */
	prekeyLowWater: number;
	/** A name not used again (a second login or a message) within this long after it was registered is deleted. */
	registrationLapseMs: number;
	/** An account used again after registering, registered at least this long ago, has priority when the relay is full. */
	establishedAfterMs: number;
	/** Bytes (storedBytes: body, id, key and row) one sender may have waiting on the relay, for everyone it wrote to. */
	maxStoredBytesPerSender: number;
	/** Envelope bytes that may wait for one recipient. */
	maxStoredBytesPerRecipient: number;
	/** Envelope bytes waiting in all; senders without priority may fill only half. */
	maxStoredBytes: number;
	/** A send costs one token and one more per this many body bytes; each extra `everyone` copy costs its bytes. */
	bytesPerToken: number;
	/** An ack costs one token per this many delivery numbers. */
	acksPerToken: number;
	/** The relay pings a connection that has been quiet this long... */
	heartbeatIntervalMs: number;
	/** ...and drops one that has sent nothing for this long. */
	idleTimeoutMs: number;
	/** A connection whose unread output grows past this is dropped: one slow reader cannot grow the relay. */
	maxBufferedBytes: number;
	/** Messages a connection may send at once (the token bucket's size). Infinity lifts the limit. */
	rateBurst: number;
	/** Messages a second a connection may keep up once its burst is spent. Infinity lifts the limit. */
	ratePerSecond: number;
	/** Refused messages (refilled at ratePerSecond) before a connection is ended as `flooding`. */
	rateMaxRefused: number;
	/** Joins and leaves are collected for this long and sent as one frame per client. */
	presenceFlushMs: number;
	/**
	 * An envelope forwarded to an online recipient waits in memory for its ack; if none comes within
	 * one to two periods of this, it is committed to disk. Either way its sender hears `accepted` only then.
	 */
	forwardedCommitMs: number;
	/** Rooms one account may be a member of; past it a create is refused room_limit (design rooms.md section 5). */
	maxRoomsPerUser: number;
	/** Members of one room: what a room_stage may hold per connection (the log's own cap is crypto's maxRoomMembers). */
	maxRoomMembers: number;
	/** Admins of one room (the log's own cap is crypto's maxRoomAdmins). */
	maxRoomAdmins: number;
	/** Invitations waiting in one room, and for one invitee; past them invite_limit. */
	maxInvitesPerRoom: number;
	maxInvitesPerUser: number;
	/** An invitation not answered and added within this long is deleted. */
	maxInviteAgeMs: number;
	/** Items waiting in one room's stream (some member has not read them); a sender may fill a quarter. */
	maxRoomItems: number;
	/** Entries of one room's log: changes past it are refused. */
	maxRoomLog: number;
	/** Bundles of people one shares a room with, at once and then a minute, instead of bundleBurst and bundleRatePerMinute. */
	roomBundleBurst: number;
	roomBundlesPerMinute: number;
};

export const defaultRelayLimits: RelayLimits = {
	...protocolDefaults,
	maxQueuedPerUser: 1000,
	// Four senders, not one, are needed to fill someone's mailbox while they are away.
	maxQueuedPerSender: 250,
	maxQueueAgeMs: 30 * 24 * 60 * 60 * 1000,
	// Time to type a name: a client whose login times out reconnects quietly and keeps what was typed.
	loginTimeoutMs: 15_000,
	maxHelloBytes: 1024,
	maxPreLoginFrameBytes: 16_384,
	partialFrameTimeoutMs: 30_000,
	maxConnections: 1000,
	maxPendingConnections: 100,
	// A household or an office behind one NAT address fits; one address can hold at most 2% of
	// the relay, so a handshake flood from one machine leaves room for everyone else.
	maxConnectionsPerAddress: 20,
	maxConnectionsPer56: 40,
	maxConnectionsPer48: 80,
	// Twenty clients behind one NAT come back at once after a relay restart; a handshake costs the
	// relay about 0.4 ms of CPU, so one a second per address is 0.04% of a core.
	handshakeBurst: 20,
	handshakesPerMinute: 60,
	failedLoginBurst: 10,
	failedLoginsPerMinute: 6,
	registrationBurstPerAddress: 10,
	registrationsPerHourPerAddress: 20,
	registrationBurst: 200,
	registrationsPerHour: 1000,
	// A page costs the relay about 0.35 ms: 20 logins at once with 20,000 users, then 2 a minute.
	directoryPagesBurst: 2000,
	directoryPagesPerMinute: 200,
	// About 300 bytes of disk a name; nothing a login or a lookup costs grows with it.
	maxRegisteredUsers: 1_000_000,
	maxContacts: 5000,
	// Strangers who write take turns in these places, never in the chosen ones.
	maxInboundContacts: 1000,
	communityMaxUsers: 100,
	whoLimit: 20,
	// Polling who learns at most whoLimit names per this long; our client asks every 60 s.
	whoRefreshMs: 30_000,
	// Enough to look up a whole address book at once; then ten names a minute, so finding out
	// which names exist takes as long as looking them up.
	lookupBurst: 5000,
	lookupsPerHour: 600,
	// Two accounts' worth: a household behind one address.
	lookupBurstPerAddress: 10_000,
	lookupsPerHourPerAddress: 1200,
	// A pool of 100 lasts two hours of the most the relay hands out (50 an hour), and a client
	// that refills at 25 has 25 left for the time it takes to come online.
	maxOneTimePrekeys: 100,
	prekeyUploadsPerMinute: 10,
	// A client starting sessions with a whole address book at once; then one bundle every 2 s.
	bundleBurst: 30,
	bundleRatePerMinute: 30,
	bundleOneTimeEveryMs: 60 * 60 * 1000,
	maxOneTimeClaimsPerHour: 50,
	prekeyLowWater: 25,
	registrationLapseMs: 24 * 60 * 60 * 1000,
	establishedAfterMs: 24 * 60 * 60 * 1000,
	maxStoredBytesPerSender: 32 * 1024 * 1024,
	maxStoredBytesPerRecipient: 64 * 1024 * 1024,
	maxStoredBytes: 2 * 1024 * 1024 * 1024,
	// 100 tokens a second move 400 KB a second: a 96 KiB body costs 25 tokens, a line of text 1.
	bytesPerToken: 4096,
	acksPerToken: 64,
	maxBufferedBytes: 4 * 1024 * 1024,
	// A pasted block of up to 200 lines, or 200 messages sent as fast as a script can, all pass at
	// once (a fixed low limit that breaks pastes is a top complaint about ssh-chat). 100 a second
	// is far beyond typing, and leaves room for what a client sends by itself: one receipt per
	// sender it heard from and one ack per turn, so even a room where 100 people each write every
	// second stays within it. A copy of one # everyone message to each user costs one token.
	rateBurst: 200,
	ratePerSecond: 100,
	// A paste of 1,200 lines is refused after line 200 but keeps the connection; only a client
	// that ignores a thousand refusals in a row without slowing down is dropped.
	rateMaxRefused: 1000,
	// At most four presence frames a second per client, and a reconnect within a window is invisible.
	presenceFlushMs: 250,
	// Long enough for a client on a slow link to ack (most envelopes then never touch the disk),
	// short enough that a sender waits at most a fifth of a second to hear `accepted`.
	forwardedCommitMs: 100,
	maxRoomsPerUser: 100,
	maxRoomMembers,
	maxRoomAdmins,
	maxInvitesPerRoom: 100,
	maxInvitesPerUser: 50,
	maxInviteAgeMs: 30 * 24 * 60 * 60 * 1000,
	// A member away for a while finds up to this many items waiting; past it the room refuses new
	// messages until members read (room_backlog_full), and one chatty sender fills only a quarter.
	maxRoomItems: 10_000,
	maxRoomLog: 100_000,
	// A removal in a room of 1,000 needs a session with every member: one bundle each, at once.
	roomBundleBurst: 1000,
	roomBundlesPerMinute: 200,
};
