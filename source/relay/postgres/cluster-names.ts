import {usernamePattern} from '../../crypto/username-rule.js';

/** A relay's name in the cluster: it names its lease, its sessions and its wake-up channel. */
export const relayIdPattern = /^[a-z0-9_]{1,40}$/;

/** A connection's name on its relay, as the relay hands them out: unique on that relay while the relay's lease lasts. */
export const connectionIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The channel every relay of the service listens on (presence, rooms, reaped relays' users). */
export const serviceChannel = 'im_tui_service';

const channelPattern = /^im_tui_(?:relay_[a-z0-9_]{1,40}|service)$/;

export function checkRelayId(relayId: unknown): string {
	if (typeof relayId !== 'string' || !relayIdPattern.test(relayId)) {
		throw new TypeError(`a relay id is 1 to 40 of a-z, 0-9 and _ (got ${describe(relayId)})`);
	}
	return relayId;
}

export function checkConnectionId(connectionId: unknown): string {
	if (typeof connectionId !== 'string' || !connectionIdPattern.test(connectionId)) {
		throw new TypeError(`a connection id is 1 to 64 of A-Z, a-z, 0-9, _ and - (got ${describe(connectionId)})`);
	}
	return connectionId;
}

/** A username or a room name: both are 1 to 32 of a-z, 0-9, _ and - (reserved names included: they are routing facts here, not registrations). */
export function checkName(name: unknown): string {
	if (typeof name !== 'string' || !usernamePattern.test(name)) {
		throw new TypeError(`a name is 1 to 32 of a-z, 0-9, _ and - (got ${describe(name)})`);
	}
	return name;
}

export function isName(name: unknown): name is string {
	return typeof name === 'string' && usernamePattern.test(name);
}

/** The channel one relay listens on for what concerns its own connections (envelopes queued for them, their replacement). */
export function relayChannel(relayId: string): string {
	return `im_tui_relay_${checkRelayId(relayId)}`;
}

export function checkChannel(channel: unknown): string {
	if (typeof channel !== 'string' || !channelPattern.test(channel)) {
		throw new TypeError(`a wake-up channel is ${serviceChannel} or im_tui_relay_<relay id> (got ${describe(channel)})`);
	}
	return channel;
}

/** A bad value for an error message: its type, or the string cut short and JSON-quoted so nothing in it reaches a log raw. */
function describe(value: unknown): string {
	if (typeof value !== 'string') return typeof value;
	return JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}…` : value);
}
