#!/usr/bin/env node
import {homedir} from 'node:os';
import {join} from 'node:path';
import process from 'node:process';
import {parseFlags} from './cli-flags.js';
import {formatKey} from './crypto/keys.js';
import {
	parseCommunity,
	parseCountLimit,
	parseHandshakeLimit,
	parseLookupLimit,
	parseNonNegative,
	parseRateLimit,
	parseRegistrationLimit,
	parseSwitch,
} from './relay/limit-flags.js';
import {jsonLineLogger} from './relay/logger.js';
import {reachableAddresses} from './relay/network-addresses.js';
import {startOperatorConsole} from './relay/operator-console.js';
import type {RelayLimits} from './relay/relay-options.js';
import {parseClusterFlags, type ClusterFlags} from './relay/store-flags.js';
import {startRelay} from './relay/server.js';

const cli = parseFlags(
	'im-tui-server',
	`
	Usage
	  $ im-tui-server [options]

	Options
	  --host       Address to listen on (default 0.0.0.0)
	  --port       TCP port to listen on (default 5000; 0 picks a free one)
	  --data-dir   Where the relay keeps its identity key
	               (default $XDG_DATA_HOME/im-tui-relay or ~/.local/share/im-tui-relay)
	  --motd       Message of the day shown to everyone who logs in
	  --store URL  Keep users, queues and rooms in PostgreSQL (postgres://user@host:port/db),
	               shared with the other relays of the service (default: SQLite in --data-dir)
	  --relay-id ID  This relay's name in the store, a-z 0-9 _ (default: random at each start)
	  --lease-ms N   How long the others wait before counting this relay dead (default 10000)

	Limits (PROTOCOL.md section 6; "off" lifts one, e.g. for benchmarks)
	  --rate-limit PER_SECOND,BURST   Tokens a connection may spend (default 100,200)
	  --max-connections N             Users logged in at once (default 1000)
	  --max-pending N                 Connections not logged in yet (default 100)
	  --max-connections-per-address N Connections from one address or IPv6 /64 (default 20)
	  --handshake-limit PER_MINUTE,BURST
	                                  New connections from one address (default 60,20)
	  --registration-limit PER_HOUR,BURST
	                                  New names from one address (default 20,10);
	                                  off also lifts the relay-wide 1000 an hour
	  --max-users N                   Registered names at most (default 1000000)
	  --community N|off               While at most N users are registered, everyone
	                                  is everyone's contact (default 100, at most 1000)
	  --who N                         Names in the who-is-online view (default 20; 0 none)
	  --lookup-limit PER_HOUR,BURST   Names one account may look up (default 600,5000);
	                                  an address twice that
	  --presence on|off               Tell clients of joins and leaves (default on)

	When stdin is a terminal, each line typed is sent to everyone as an announcement.
	Ctrl+C, SIGINT or SIGTERM tells the clients and stops the relay.
	Logs are JSON lines on stderr.
`,
	{
		importMeta: import.meta,
		flags: {
			host: {type: 'string', default: '0.0.0.0'},
			port: {type: 'number', default: 5000},
			dataDir: {type: 'string'},
			motd: {type: 'string'},
			rateLimit: {type: 'string'},
			maxConnections: {type: 'string'},
			maxConnectionsPerAddress: {type: 'string'},
			maxPending: {type: 'string'},
			handshakeLimit: {type: 'string'},
			registrationLimit: {type: 'string'},
			maxUsers: {type: 'string'},
			community: {type: 'string'},
			who: {type: 'string'},
			lookupLimit: {type: 'string'},
			presence: {type: 'string', default: 'on'},
			store: {type: 'string'},
			relayId: {type: 'string'},
			leaseMs: {type: 'string'},
		},
	},
);

process.title = 'im-tui-server';
const {host, port, motd} = cli.flags;
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
	process.stderr.write(`im-tui-server: --port must be a whole number from 0 to 65535\n`);
	process.exit(2);
}
const limits: Partial<RelayLimits> = {};
let presence = true;
let cluster: ClusterFlags | undefined;
try {
	const {rateLimit, maxConnections, maxConnectionsPerAddress, maxPending, handshakeLimit, registrationLimit, maxUsers, community, who, lookupLimit} =
		cli.flags;
	if (rateLimit !== undefined) Object.assign(limits, parseRateLimit(rateLimit));
	if (maxConnections !== undefined) limits.maxConnections = parseCountLimit('max-connections', maxConnections);
	if (maxConnectionsPerAddress !== undefined) {
		limits.maxConnectionsPerAddress = parseCountLimit('max-connections-per-address', maxConnectionsPerAddress);
	}
	if (maxPending !== undefined) limits.maxPendingConnections = parseCountLimit('max-pending', maxPending);
	if (handshakeLimit !== undefined) Object.assign(limits, parseHandshakeLimit(handshakeLimit));
	if (registrationLimit !== undefined) Object.assign(limits, parseRegistrationLimit(registrationLimit));
	if (maxUsers !== undefined) limits.maxRegisteredUsers = parseCountLimit('max-users', maxUsers);
	if (community !== undefined) limits.communityMaxUsers = parseCommunity(community);
	if (who !== undefined) limits.whoLimit = parseNonNegative('who', who);
	if (lookupLimit !== undefined) Object.assign(limits, parseLookupLimit(lookupLimit));
	presence = parseSwitch('presence', cli.flags.presence);
	cluster = parseClusterFlags(cli.flags);
} catch (error) {
	process.stderr.write(`im-tui-server: ${(error as Error).message}\n`);
	process.exit(2);
}

const dataHome = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
const dataDir = cli.flags.dataDir ?? join(dataHome, 'im-tui-relay');
const log = jsonLineLogger(line => process.stderr.write(line));

try {
	const relay = await startRelay({host, port, dataDir, motd: motd ?? null, log, limits, presence, ...(cluster === undefined ? {} : {cluster})});
	let stopConsole = () => {};
	const stop = async (signal: string) => {
		stopConsole();
		log('signal', {signal});
		await relay.close();
		process.exit(0);
	};
	process.once('SIGINT', () => void stop('SIGINT'));
	process.once('SIGTERM', () => void stop('SIGTERM'));
	const print = (line: string) => process.stdout.write(line + '\n');
	print(`im-tui relay listening on ${host}:${relay.port}`);
	print(`reachable at: ${reachableAddresses(host).join(', ')}`);
	print(`fingerprint:  ${formatKey(relay.fingerprint)}`);
	// Printed last: the connect line tells scripts the relay is ready for signals and clients.
	const clientHost = reachableAddresses(host)[0] ?? '127.0.0.1';
	print(`connect with: npx im-tui --host ${clientHost} --port ${relay.port} --trust ${relay.fingerprint}`);

	if (process.stdin.isTTY) {
		stopConsole = startOperatorConsole({
			input: process.stdin,
			output: process.stdout,
			announce: text => relay.announce(text),
			onInterrupt: () => void stop('SIGINT'),
		});
	}
} catch (error) {
	process.stderr.write(`im-tui-server: ${(error as Error).message}\n`);
	process.exit(1);
}
