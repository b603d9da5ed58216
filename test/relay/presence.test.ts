import {describe, expect, it} from 'vitest';
import type {RelayMessage, UserRecord} from '../../source/net/messages.js';
import {PresenceBatcher} from '../../source/relay/presence-batcher.js';
import {presenceChanges, type PresenceEvent} from '../../source/relay/presence-changes.js';

const user = (username: string): UserRecord => ({username, online: true, identity: 'i', x25519: 'x', binding: 'b'});
const join = (username: string, registered = false): PresenceEvent => ({username, joined: true, user: user(username), registered});
const leave = (username: string): PresenceEvent => ({username, joined: false});
const joined = (username: string): RelayMessage => ({type: 'user_joined', user: user(username)});
const left = (username: string): RelayMessage => ({type: 'user_left', username});

const messages = (events: PresenceEvent[], from = 0) => presenceChanges(events, from).flatMap(change => change.messages);

describe('presenceChanges: the net difference an observer must hear', () => {
	it('keeps joins and leaves that stand, in the order they first happened', () => {
		expect(messages([join('bob'), leave('carol'), join('dave')])).toEqual([joined('bob'), left('carol'), joined('dave')]);
	});

	it('a join then a leave, or a leave then a join (a reconnect), cancels out', () => {
		expect(messages([join('bob'), leave('carol'), leave('bob'), join('carol')])).toEqual([]);
		expect(messages([join('bob'), leave('bob'), join('bob')])).toEqual([joined('bob')]);
	});

	it('a first login is never cancelled: observers learn the record, then that the user left', () => {
		expect(messages([join('newbie', true), leave('newbie')])).toEqual([joined('newbie'), left('newbie')]);
		expect(messages([join('newbie', true), leave('newbie'), join('newbie')])).toEqual([joined('newbie')]);
	});

	it('starts where the observer came in: what its welcome showed is not repeated', () => {
		const events = [join('newbie', true), leave('newbie'), join('carol'), leave('dave')];
		// an observer welcomed after the first two saw newbie offline in its directory
		expect(messages(events, 2)).toEqual([joined('carol'), left('dave')]);
		expect(messages(events, 4)).toEqual([]);
	});
});

type Observer = {name: string; got: RelayMessage[][]};

/** A batcher with a timer the test fires by hand, and observers that record one list per flush turn. */
function harness(flushMs = 250) {
	const clock = {now: 0};
	const timers: Array<{callback: () => void; delayMs: number; cancelled: boolean}> = [];
	const online = new Map<string, Observer>();
	const batcher = new PresenceBatcher<Observer>({
		enabled: true,
		flushMs,
		clock: () => clock.now,
		timer(callback, delayMs) {
			const timer = {callback, delayMs, cancelled: false};
			timers.push(timer);
			return () => {
				timer.cancelled = true;
			};
		},
		observers: () => [...online.entries()],
		send: (observer, message) => observer.got.at(-1)!.push(message),
	});
	const pending = () => timers.filter(timer => !timer.cancelled);
	return {
		clock,
		batcher,
		pending,
		online(name: string): Observer {
			const observer: Observer = {name, got: []};
			online.set(name, observer);
			return observer;
		},
		offline(name: string) {
			online.delete(name);
		},
		/** Fires the pending timer: one flush, whose messages each observer records as one turn. */
		fire() {
			for (const observer of online.values()) observer.got.push([]);
			const [timer] = pending();
			timer!.cancelled = true;
			timer!.callback();
			for (const observer of online.values()) if (observer.got.at(-1)!.length === 0) observer.got.pop();
		},
	};
}

describe('PresenceBatcher', () => {
	it('collects many logins into one flush per observer, never telling users about themselves', () => {
		const {batcher, online, fire, pending} = harness();
		const alice = online('alice');
		const [bob, carol, dave] = ['bob', 'carol', 'dave'].map(name => {
			const observer = online(name);
			batcher.joined(user(name), false);
			batcher.welcomed(observer);
			return observer;
		});
		expect(pending()).toHaveLength(1);
		fire();
		expect(alice.got).toEqual([[joined('bob'), joined('carol'), joined('dave')]]);
		// each welcome already listed everyone before it: bob hears of carol and dave, dave of nobody
		expect(bob!.got).toEqual([[joined('carol'), joined('dave')]]);
		expect(carol!.got).toEqual([[joined('dave')]]);
		expect(dave!.got).toEqual([]);
	});

	it('tells each observer only what happened after its own welcome', () => {
		const {batcher, online, fire} = harness();
		const alice = online('alice');
		const bob = online('bob');
		batcher.joined(user('bob'), false);
		batcher.welcomed(bob);
		const carol = online('carol');
		batcher.joined(user('carol'), false);
		batcher.welcomed(carol);
		batcher.left('dave');
		fire();
		expect(alice.got.flat()).toEqual([joined('bob'), joined('carol'), left('dave')]);
		expect(bob.got.flat()).toEqual([joined('carol'), left('dave')]);
		expect(carol.got.flat()).toEqual([left('dave')]);
	});

	it('the first change after a quiet spell goes out at once; the next wait out the window', () => {
		const {clock, batcher, online, fire, pending} = harness(250);
		online('alice');
		batcher.joined(user('bob'), false);
		expect(pending().map(timer => timer.delayMs)).toEqual([0]);
		fire();
		clock.now += 100;
		batcher.joined(user('carol'), false);
		batcher.joined(user('dave'), false);
		expect(pending().map(timer => timer.delayMs)).toEqual([150]);
		fire();
		clock.now += 10_000;
		batcher.left('carol');
		expect(pending().map(timer => timer.delayMs)).toEqual([0]);
	});

	it('catchUp brings one observer up to date early, and the flush does not repeat it', () => {
		const {batcher, online, fire} = harness();
		const alice = online('alice');
		const bob = online('bob');
		batcher.joined(user('newbie'), true);
		alice.got.push([]);
		batcher.catchUp('alice', alice);
		batcher.catchUp('alice', alice);
		expect(alice.got).toEqual([[joined('newbie')]]);
		batcher.left('carol');
		fire();
		expect(alice.got).toEqual([[joined('newbie')], [left('carol')]]);
		expect(bob.got).toEqual([[joined('newbie'), left('carol')]]);
	});

	it('disabled, or stopped, it sends nothing', () => {
		const {batcher, online, pending} = harness();
		online('alice');
		batcher.joined(user('bob'), false);
		batcher.stop();
		batcher.left('bob');
		expect(pending()).toEqual([]);
		const off = new PresenceBatcher<Observer>({
			enabled: false,
			flushMs: 250,
			clock: () => 0,
			timer: () => {
				throw new Error('no timer when disabled');
			},
			observers: () => [],
			send: () => {},
		});
		off.joined(user('bob'), true);
		off.left('bob');
	});
});
