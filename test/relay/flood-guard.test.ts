import {describe, expect, it} from 'vitest';
import type {ClientMessage} from '../../source/net/messages.js';
import {FloodGuard, type FloodVerdict} from '../../source/relay/flood-guard.js';

const ephemeral = 'A'.repeat(43);
const ping: ClientMessage = {type: 'ping', nonce: 1};
const send = (id: string, to: string, kind: 'direct' | 'everyone' = 'direct'): ClientMessage => ({type: 'send', id, to, kind, ephemeral, body: 'x'});

function guard(limits: {rateBurst: number; ratePerSecond: number; rateMaxRefused: number; bytesPerToken?: number}) {
	const clock = {now: 0};
	return {clock, guard: new FloodGuard({bytesPerToken: 16_384, acksPerToken: 64, ...limits}, () => clock.now)};
}

const everyoneOnline = (audience = 1000) => ({audience, online: () => true});

function verdicts(guard: FloodGuard, messages: ClientMessage[], audience = 1000): FloodVerdict[] {
	return messages.map(message => guard.check(message, everyoneOnline(audience)));
}

describe('FloodGuard', () => {
	it('counts messages, not frames: every message after the burst is refused until tokens come back', () => {
		const {clock, guard: flood} = guard({rateBurst: 3, ratePerSecond: 10, rateMaxRefused: 100});
		expect(verdicts(flood, [ping, send('a', 'bob'), {type: 'ack', deliveries: [1]}, ping])).toEqual(['ok', 'ok', 'ok', 'refused']);
		clock.now += 100;
		expect(verdicts(flood, [ping, ping])).toEqual(['ok', 'refused']);
	});

	it('after a send is refused, sends stay refused until a tenth of a second of tokens is back, so a later send never overtakes the refused one', () => {
		const {clock, guard: flood} = guard({rateBurst: 2, ratePerSecond: 100, rateMaxRefused: 1000});
		expect(verdicts(flood, [send('m1', 'bob'), send('m2', 'bob'), send('m3', 'bob')])).toEqual(['ok', 'ok', 'refused']);
		// 2 ms later a token and a fifth are back: m4, sent before the client heard of m3's refusal, is refused too.
		clock.now += 12;
		expect(verdicts(flood, [send('m4', 'bob')])).toEqual(['refused']);
		// Other messages are charged as before.
		expect(verdicts(flood, [ping])).toEqual(['ok']);
		clock.now += 100;
		// Ten tokens again (at most the burst, here 2): the client's resends, in order, are taken.
		expect(verdicts(flood, [send('m3', 'bob'), send('m4', 'bob')])).toEqual(['ok', 'ok']);
	});

	it('a lookup costs one token per 16 names, at least one; a who one', () => {
		const names = (count: number) => Array.from({length: count}, (_, index) => `n${index}`);
		const {guard: flood} = guard({rateBurst: 10, ratePerSecond: 0.001, rateMaxRefused: 100});
		expect(verdicts(flood, [{type: 'lookup', id: 'a', names: names(100)}, {type: 'lookup', id: 'b', names: names(17)}, {type: 'who'}])).toEqual(['ok', 'ok', 'ok']);
		expect(verdicts(flood, [{type: 'lookup', id: 'c', names: names(1)}])).toEqual(['refused']);
	});

	it('bye is always free: a throttled client can still leave', () => {
		const {guard: flood} = guard({rateBurst: 1, ratePerSecond: 1, rateMaxRefused: 1});
		expect(verdicts(flood, [ping, {type: 'bye'}, {type: 'bye'}])).toEqual(['ok', 'ok', 'ok']);
	});

	it('the copies of one # everyone message share one verdict and one token, and a sixteenth each', () => {
		const {guard: flood} = guard({rateBurst: 3, ratePerSecond: 1, rateMaxRefused: 100, bytesPerToken: Infinity});
		const copies = ['bob', 'carol', 'dave', 'erin'].map(to => send('hello', to, 'everyone'));
		expect(verdicts(flood, copies)).toEqual(['ok', 'ok', 'ok', 'ok']);
		expect(verdicts(flood, [send('again', 'bob', 'everyone'), send('again', 'carol', 'everyone')])).toEqual(['ok', 'ok']);
		// out of tokens: the next message to everyone is refused as a whole, and counted once
		expect(verdicts(flood, ['bob', 'carol', 'dave'].map(to => send('third', to, 'everyone')))).toEqual(['refused', 'refused', 'refused']);
	});

	it('a repeated recipient (case-folded), or more copies than there are users, starts a new group and costs a token', () => {
		const {guard: flood} = guard({rateBurst: 4, ratePerSecond: 1, rateMaxRefused: 100, bytesPerToken: Infinity});
		const audience = 3;
		const checks = [
			send('m', 'bob', 'everyone'), // token 1
			send('m', 'BOB', 'everyone'), // bob again: token 2
			send('m', 'carol', 'everyone'),
			send('m', 'dave', 'everyone'), // bob, carol, dave: as many copies as users
			send('m', 'erin', 'everyone'), // one more: token 3
			send('d', 'bob'), // none left
		].map(message => flood.check(message, everyoneOnline(audience)));
		expect(checks).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'refused']);
	});

	it('ends a client that keeps sending at full speed after rateMaxRefused refusals', () => {
		const {guard: flood} = guard({rateBurst: 5, ratePerSecond: 1, rateMaxRefused: 20});
		const results = verdicts(flood, Array.from({length: 30}, () => ping));
		expect(results.filter(verdict => verdict === 'ok')).toHaveLength(5);
		expect(results.filter(verdict => verdict === 'refused')).toHaveLength(20);
		expect(results[25]).toBe('flooding');
	});

	it('an ack costs one token per 64 delivery numbers: 1,024 numbers cost 16 (issue 11, finding 1)', () => {
		const {guard: flood} = guard({rateBurst: 32, ratePerSecond: 1, rateMaxRefused: 100});
		const deliveries = Array.from({length: 1024}, (_, index) => index + 1);
		expect(verdicts(flood, [{type: 'ack', deliveries}, {type: 'ack', deliveries}, {type: 'ack', deliveries}])).toEqual(['ok', 'ok', 'refused']);
		expect(verdicts(flood, [{type: 'ack', deliveries: []}, {type: 'ack', deliveries: [1]}])).toEqual(['refused', 'refused']);
	});

	it('a send costs one token more per 16 KiB of body: a 96 KiB body costs 7 (issue 11, finding 8)', () => {
		const {guard: flood} = guard({rateBurst: 14, ratePerSecond: 1, rateMaxRefused: 100});
		const big = (id: string): ClientMessage => ({type: 'send', id, to: 'bob', kind: 'direct', ephemeral, body: 'x'.repeat(98_304)});
		expect(verdicts(flood, [big('a'), big('b'), big('c')])).toEqual(['ok', 'ok', 'refused']);
	});

	it('each further # everyone copy owes its bytes, and a copy for an offline user a whole send (issue 11, finding 4)', () => {
		const body = 'x'.repeat(16_384);
		const copy = (to: string): ClientMessage => ({type: 'send', id: 'room', to, kind: 'everyone', ephemeral, body});
		const names = Array.from({length: 10}, (_, index) => `user${index}`);
		const online = guard({rateBurst: 100, ratePerSecond: 1, rateMaxRefused: 1000});
		// (a 16 KiB body owes a whole token a copy: more than the sixteenth every copy owes at least)
		for (const name of names) expect(online.guard.check(copy(name), {audience: 100, online: () => true})).toBe('ok');
		// 2 for the first copy, 1 owed by each of the other 9: 89 of 100 left
		expect(verdicts(online.guard, Array.from({length: 90}, () => ping)).filter(verdict => verdict === 'ok')).toHaveLength(89);
		const offline = guard({rateBurst: 100, ratePerSecond: 1, rateMaxRefused: 1000});
		for (const name of names) expect(offline.guard.check(copy(name), {audience: 100, online: () => false})).toBe('ok');
		// 2 for each of the ten: 80 left
		expect(verdicts(offline.guard, Array.from({length: 90}, () => ping)).filter(verdict => verdict === 'ok')).toHaveLength(80);
	});

	it('never ends a client that slows down: refusals are forgiven at the sustained rate', () => {
		const {clock, guard: flood} = guard({rateBurst: 10, ratePerSecond: 10, rateMaxRefused: 20});
		// twice the allowed rate for a minute: half is refused, and the refusals drain as fast as they come
		for (let tick = 0; tick < 600; tick++) {
			clock.now += 100;
			expect(verdicts(flood, [ping, ping])).not.toContain('flooding');
		}
	});

	it('lifted (Infinity) never refuses', () => {
		const {guard: flood} = guard({rateBurst: Infinity, ratePerSecond: Infinity, rateMaxRefused: 1});
		expect(verdicts(flood, Array.from({length: 10_000}, () => ping))).not.toContain('refused');
	});

	it('copies for offline users are charged one by one: 100,000 of them never pass on one token', () => {
		const {guard: flood} = guard({rateBurst: 200, ratePerSecond: 100, rateMaxRefused: 1000});
		const results = Array.from({length: 100_000}, (_, index) =>
			flood.check({type: 'send', id: 'spam', to: `user${index}`, kind: 'everyone', ephemeral, body: 'x'}, {audience: 10, online: () => false}),
		);
		expect(results.filter(verdict => verdict === 'ok')).toHaveLength(200);
		expect(results.indexOf('flooding')).toBe(1200);
	});

	it('copies of a refused # everyone message cost a tenth of a refusal each: a client sending them for ever is ended', () => {
		const {guard: flood} = guard({rateBurst: 1, ratePerSecond: 1, rateMaxRefused: 100});
		expect(flood.check(ping, everyoneOnline())).toBe('ok');
		const results = Array.from({length: 2000}, (_, index) =>
			flood.check({type: 'send', id: 'refused', to: `user${index}`, kind: 'everyone', ephemeral, body: 'x'}, everyoneOnline(100_000)),
		);
		expect(results[0]).toBe('refused');
		// the first copy takes a whole refusal, each further one a tenth
		expect(results.indexOf('flooding')).toBe(991);
	});

	it('a group holds at most as many copies as users are online; one more starts a new message', () => {
		const {guard: flood} = guard({rateBurst: 3, ratePerSecond: 1, rateMaxRefused: 100, bytesPerToken: Infinity});
		const copies = ['a', 'b', 'c', 'd'].map(to => flood.check({type: 'send', id: 'm', to, kind: 'everyone', ephemeral, body: 'x'}, everyoneOnline(3)));
		expect(copies).toEqual(['ok', 'ok', 'ok', 'ok']);
		expect(flood.check(ping, everyoneOnline())).toBe('refused');
	});
});
