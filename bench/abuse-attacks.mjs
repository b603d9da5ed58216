// The attacks `npm run bench:abuse` knows, by the names IM_TUI_ABUSE_ONLY takes, in the order run.
import {handshakeFlood, nestedHello, registerFlood, slotHold, trickle} from './abuse-attacks-connections.mjs';
import {ackFlood, badLogin, everyoneFlood, offlineFill} from './abuse-attacks-messages.mjs';

/** No attacker at all: the bystander's pings on a quiet relay, the floor for every other row. */
const idle = {
	unit: '-',
	stated: () => 'none',
	run() {},
};

export const attacks = {
	idle,
	'ack-flood': ackFlood,
	trickle,
	'register-flood': registerFlood,
	'offline-fill': offlineFill,
	'nested-hello': nestedHello,
	'bad-login': badLogin,
	'handshake-flood': handshakeFlood,
	'slot-hold': slotHold,
	'everyone-flood': everyoneFlood,
};
