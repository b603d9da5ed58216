import pg from 'pg';
import {afterAll, beforeAll, expect, it} from 'vitest';
import type {LogFields} from '../../source/relay/logger.js';
import {relayChannel, serviceChannel} from '../../source/relay/postgres/cluster-names.js';
import {maxPayloadBytes, wakeupPayloads, type Wakeup} from '../../source/relay/postgres/wakeup-payloads.js';
import {Wakeups, type WakeupsOptions} from '../../source/relay/postgres/wakeups.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait-for.js';

type Received = {wakeup: Wakeup; channel: string};

describePostgres('wake-ups: LISTEN/NOTIFY between relays', () => {
	const database = usePostgresDatabase();
	let pool: pg.Pool;
	const opened: Wakeups[] = [];
	const proxies: TcpProxy[] = [];

	beforeAll(() => {
		pool = new pg.Pool({connectionString: database.url, max: 3});
		pool.on('error', () => {});
	});
	afterAll(async () => {
		await Promise.all(opened.map(async wakeups => wakeups.close()));
		await Promise.all(proxies.map(async proxy => proxy.close()));
		await pool?.end();
	});

	async function listen(relayId: string, options: WakeupsOptions & {url?: string} = {}): Promise<{wakeups: Wakeups; got: Received[]; logged: Array<[string, LogFields | undefined]>; states: string[]}> {
		const logged: Array<[string, LogFields | undefined]> = [];
		const wakeups = await Wakeups.listen(options.url ?? database.url, relayId, {heartbeatMs: 0, log: (event, fields) => logged.push([event, fields]), ...options});
		opened.push(wakeups);
		const got: Received[] = [];
		wakeups.on((wakeup, channel) => {
			got.push({wakeup, channel});
		});
		const states: string[] = [];
		wakeups.onConnection(state => states.push(state));
		return {wakeups, got, logged, states};
	}

	async function inTransaction(work: (client: pg.PoolClient) => Promise<void>, end: 'commit' | 'rollback'): Promise<void> {
		const client = await pool.connect();
		try {
			await client.query('begin');
			await work(client);
			await client.query(end);
		} finally {
			client.release();
		}
	}

	const queued = (...names: string[]): Wakeup => ({type: 'queued', names});

	it('arrives when the transaction that sent it commits, never when it rolls back', async () => {
		const relay = await listen('commits');
		const channel = relayChannel('commits');
		await inTransaction(async tx => {
			await Wakeups.notify(tx, channel, queued('before_commit'));
			// Not before the commit: the transaction is still open.
			await new Promise(resolve => setTimeout(resolve, 100));
			expect(relay.got).toEqual([]);
		}, 'commit');
		await waitFor(() => expect(relay.got).toEqual([{wakeup: queued('before_commit'), channel}]));

		await inTransaction(async tx => {
			await Wakeups.notify(tx, channel, queued('rolled_back'));
		}, 'rollback');
		await inTransaction(async tx => {
			await Wakeups.notify(tx, channel, queued('after'));
		}, 'commit');
		// Notifications arrive in commit order: once `after` is here, a rolled-back one would have been too.
		await waitFor(() => expect(relay.got.map(item => item.wakeup)).toEqual([queued('before_commit'), queued('after')]));
	});

	it("reaches only its relay on a relay's channel, and every relay on the service channel", async () => {
		const north = await listen('north');
		const south = await listen('south');
		await Wakeups.notify(pool, relayChannel('north'), queued('for_north'));
		await Wakeups.notify(pool, serviceChannel, {type: 'online', names: ['everyone_sees']});
		const online = {wakeup: {type: 'online', names: ['everyone_sees']}, channel: serviceChannel};
		await waitFor(() => expect(north.got).toEqual([{wakeup: queued('for_north'), channel: relayChannel('north')}, online]));
		await waitFor(() => expect(south.got).toEqual([online]));
	});

	it("splits a long list of names at NOTIFY's limit, and every name arrives once", async () => {
		// PostgreSQL itself: 7,999 bytes go, 8,000 are refused. The limit here is that one.
		await expect(pool.query("select pg_notify('im_tui_limit_probe', repeat('a', $1))", [maxPayloadBytes])).resolves.toBeDefined();
		await expect(pool.query("select pg_notify('im_tui_limit_probe', repeat('a', $1))", [maxPayloadBytes + 1])).rejects.toThrow(/payload string too long/);

		// Names that fill one payload to exactly the limit: one notification; one name more: two.
		const overhead = JSON.stringify(queued()).length;
		const names: string[] = [];
		let bytes = overhead;
		for (let index = 0; bytes + 35 <= maxPayloadBytes; index++) {
			const name = `n${String(index).padStart(31, '0')}`;
			bytes += (names.length > 0 ? 1 : 0) + name.length + 2;
			names.push(name);
		}
		const rest = maxPayloadBytes - bytes - 3;
		names.push('x'.repeat(rest));
		expect(rest).toBeGreaterThan(0);
		const full = wakeupPayloads(queued(...names));
		expect(full.map(payload => Buffer.byteLength(payload))).toEqual([maxPayloadBytes]);
		expect(wakeupPayloads(queued(...names, 'one_more')).map(payload => Buffer.byteLength(payload))).toEqual([maxPayloadBytes, JSON.stringify(queued('one_more')).length]);

		// Through PostgreSQL: 5,000 names of 32 bytes, sent as one wake-up, arrive complete and once each.
		const relay = await listen('batches');
		const many = Array.from({length: 5000}, (_, index) => `user_${String(index).padStart(27, '0')}`);
		const sent = await Wakeups.notify(pool, relayChannel('batches'), queued(...many, ...many.slice(0, 100)));
		// Each name costs 35 bytes (32, two quotes, a comma), the first of a payload one less.
		const perPayload = Math.floor((maxPayloadBytes - overhead + 1) / 35);
		expect(sent).toBe(Math.ceil(5000 / perPayload));
		await waitFor(() => expect(relay.got).toHaveLength(sent));
		const arrived = relay.got.flatMap(({wakeup}) => (wakeup.type === 'queued' ? wakeup.names : []));
		expect(arrived).toEqual(many);

		// A room notice to many users splits the same way, each payload under the limit and carrying the notice.
		const notice = {type: 'notice', kind: 'accepted', room: 'r'.repeat(32), user: 'u'.repeat(32)} as const;
		const split = wakeupPayloads({...notice, names: many});
		expect(split.length).toBeGreaterThan(1);
		expect(Math.max(...split.map(payload => Buffer.byteLength(payload)))).toBeLessThanOrEqual(maxPayloadBytes);
		expect(split.flatMap(payload => {
			const {names, ...rest} = JSON.parse(payload) as {names: string[]};
			expect(rest).toEqual(notice);
			return names;
		})).toEqual(many);

		// Read counts: 2,000 of the longest there are, split and sent, arrive whole, in order.
		const counts = Array.from({length: 2000}, (_, index) => ({room: 'r'.repeat(32), seq: Number.MAX_SAFE_INTEGER - index, id: 'i'.repeat(64), sender: 's'.repeat(32), delivered: 1000, of: 1000}));
		const countsSent = await Wakeups.notify(pool, relayChannel('batches'), {type: 'read_counts', counts});
		expect(countsSent).toBeGreaterThan(1);
		await waitFor(() => expect(relay.got.filter(({wakeup}) => wakeup.type === 'read_counts')).toHaveLength(countsSent));
		expect(relay.got.flatMap(({wakeup}) => (wakeup.type === 'read_counts' ? wakeup.counts : []))).toEqual(counts);
	});

	it('logs and drops a malformed notification, never throws, and delivers the next one', async () => {
		const relay = await listen('hostile');
		const channel = relayChannel('hostile');
		const bad = [
			'not json',
			'',
			'[1,2]',
			'{"type":"queued"}',
			'{"type":"queued","names":[]}',
			'{"type":"queued","names":["Not A Name"]}',
			'{"type":"queued","names":["ok", 7]}',
			'{"type":"replaced","username":"alice","connection":"a b"}',
			'{"type":"drop_tables","names":["alice"]}',
			'{"__proto__":{"type":"queued"},"names":["alice"]}',
			'{"type":"notice","kind":"invited","room":"club","names":["alice"]}',
			'{"type":"notice","kind":"promoted","room":"club","user":"bob","names":["alice"]}',
			'{"type":"notice","kind":"declined","room":"Club\\u202e","user":"bob","names":["alice"]}',
			'{"type":"notice","kind":"accepted","room":"club","user":"bob","names":[]}',
			'{"type":"read_counts","counts":[]}',
			'{"type":"read_counts","counts":[["dev",0,"m1","alice",1,2]]}',
			'{"type":"read_counts","counts":[["dev",1,"m 1","alice",1,2]]}',
			'{"type":"read_counts","counts":[["dev",1,"m1","alice",-1,2]]}',
			'{"type":"read_counts","counts":[["dev",1,"m1","alice",1]]}',
			'{"type":"read_counts","counts":[["dev",1,"m1","ALICE",1,2]]}',
		];
		for (const payload of bad) await pool.query('select pg_notify($1, $2)', [channel, payload]);
		await pool.query('select pg_notify($1, $2)', [channel, '{"type":"queued","names":["alice"],"later_field":1}']);
		await waitFor(() => expect(relay.got).toEqual([{wakeup: queued('alice'), channel}]));
		const malformed = relay.logged.filter(([event]) => event === 'wakeup_malformed');
		expect(malformed).toHaveLength(bad.length);
		expect(malformed.map(([, fields]) => fields?.['reason'])).toContain('not JSON');
		expect(relay.wakeups.listening).toBe(true);
	});

	it('logs a handler that throws or rejects; the other handlers still get the wake-up', async () => {
		const relay = await listen('handlers');
		relay.wakeups.on(() => {
			throw new Error('handler bug');
		});
		relay.wakeups.on(async () => {
			throw new Error('async handler bug');
		});
		await Wakeups.notify(pool, relayChannel('handlers'), queued('bob'));
		await waitFor(() => expect(relay.got).toHaveLength(1));
		await waitFor(() =>
			expect(relay.logged.filter(([event]) => event === 'wakeup_handler_failed').map(([, fields]) => fields?.['error'])).toEqual(['handler bug', 'async handler bug']),
		);
	});

	it('a listener whose backend is terminated says lost, listens again, says restored, and gets what is sent after', async () => {
		const relay = await listen('terminated', {retryMs: 400});
		const channel = relayChannel('terminated');
		const pid = relay.wakeups.backendPid;
		expect(pid).toBeTypeOf('number');
		let sentWhileLost: Promise<unknown> | undefined;
		relay.wakeups.onConnection(state => {
			if (state === 'lost') sentWhileLost = Wakeups.notify(pool, channel, queued('while_lost'));
		});
		await pool.query('select pg_terminate_backend($1)', [pid]);
		await waitFor(() => expect(relay.states).toEqual(['lost', 'restored']));
		await sentWhileLost;
		expect(relay.wakeups.backendPid).not.toBe(pid);
		expect(relay.logged.map(([event]) => event)).toContain('wakeups_lost');

		await Wakeups.notify(pool, channel, queued('after_restored'));
		await waitFor(() => expect(relay.got.map(item => item.wakeup)).toContainEqual(queued('after_restored')));
		// What was sent while no one listened is gone: why `restored` tells the relay to re-read.
		expect(relay.got.map(item => item.wakeup)).toEqual([queued('after_restored')]);
	});

	it('while PostgreSQL cannot be reached it keeps trying, waiting longer each time up to the cap, and comes back', async () => {
		const proxy = await startTcpProxy({host: new URL(database.url).hostname, port: Number(new URL(database.url).port)});
		proxies.push(proxy);
		const relay = await listen('unreachable', {url: proxy.through(database.url), retryMs: 20, maxRetryMs: 160});
		const started = Date.now();
		proxy.refuse(true);
		proxy.cut();
		await waitFor(() => expect(relay.states).toEqual(['lost']));
		await waitFor(() => expect(relay.logged.filter(([event]) => event === 'wakeups_connect_failed').length).toBeGreaterThanOrEqual(8), {timeoutMs: 10_000});
		// 8 attempts at 20, 40, 80, then 160 ms (each 50-100% of that): at least ~0.45 s, far less than uncapped doubling's 5 s.
		const elapsed = Date.now() - started;
		expect(elapsed).toBeGreaterThan(400);
		expect(elapsed).toBeLessThan(4000);
		expect(relay.wakeups.listening).toBe(false);

		proxy.refuse(false);
		await waitFor(() => expect(relay.states).toEqual(['lost', 'restored']), {timeoutMs: 5000});
		await Wakeups.notify(pool, relayChannel('unreachable'), queued('back'));
		await waitFor(() => expect(relay.got.map(item => item.wakeup)).toEqual([queued('back')]));
	});

	it('counts a silent network (no answer to its heartbeat) as a drop, and listens again', async () => {
		const proxy = await startTcpProxy({host: new URL(database.url).hostname, port: Number(new URL(database.url).port)});
		proxies.push(proxy);
		const relay = await listen('silent', {url: proxy.through(database.url), heartbeatMs: 150, retryMs: 20});
		proxy.freeze();
		await waitFor(() => expect(relay.states).toEqual(['lost', 'restored']), {timeoutMs: 5000});
		expect(relay.logged.find(([event]) => event === 'wakeups_lost')?.[1]?.['reason']).toMatch(/no answer to a heartbeat within 150 ms/);
		await Wakeups.notify(pool, relayChannel('silent'), queued('after_silence'));
		await waitFor(() => expect(relay.got.map(item => item.wakeup)).toEqual([queued('after_silence')]));
	});

	it('refuses bad relay ids, channels and wake-ups with words, and a first connection that fails', async () => {
		await expect(Wakeups.listen(database.url, 'Bad-Id')).rejects.toThrow(/a relay id is 1 to 40 of a-z, 0-9 and _/);
		await expect(Wakeups.listen(database.url, 'x'.repeat(41))).rejects.toThrow(/a relay id/);
		await expect(Wakeups.notify(pool, 'some_channel', queued('alice'))).rejects.toThrow(/a wake-up channel is im_tui_service or im_tui_relay_<relay id>/);
		await expect(Wakeups.notify(pool, serviceChannel, queued('Alice Smith'))).rejects.toThrow(/a name is 1 to 32/);
		await expect(Wakeups.notify(pool, serviceChannel, {type: 'replaced', username: 'alice', connection: ''})).rejects.toThrow(/a connection id/);
		await expect(Wakeups.notify(pool, serviceChannel, {type: 'nope', names: ['a']} as unknown as Wakeup)).rejects.toThrow(/no wake-up of type "nope"/);
		expect(await Wakeups.notify(pool, serviceChannel, queued())).toBe(0);

		const nowhere = new URL(database.url);
		nowhere.port = '1';
		await expect(Wakeups.listen(nowhere.toString(), 'nowhere', {connectTimeoutMs: 1000})).rejects.toThrow(/cannot listen for wake-ups on PostgreSQL: .*ECONNREFUSED/);
	});
});
