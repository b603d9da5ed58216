import {describe, expect, it} from 'vitest';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';
import {RawPeer} from '../helpers/raw-peer.js';

/**
 * Attack: once an address has used its registrations, a `login` for a name nobody has is refused
 * `registration_closed` before any signature is checked and without counting as a failed login,
 * while a registered name goes on to `username_taken` / `bad_login`. One connection (no account,
 * no lookup token) may repeat its login after each non-fatal refusal, at the message rate.
 */
describe('attack: login as an existence oracle', () => {
	it('logins for guessed names on one connection tell registered from missing no faster than failed logins allow', async () => {
		const relay = await relayForTest({
			limits: {communityMaxUsers: 0, registrationBurstPerAddress: 1, registrationsPerHourPerAddress: 1, failedLoginBurst: 3, failedLoginsPerMinute: 1},
		});
		// bob's registration uses the address's only one
		(await loggedInPeer(relay.port, 'bob', {localAddress: '127.0.0.9'})).close();

		const peer = await RawPeer.open(relay.port, '127.0.0.9');
		const channel = await peer.handshake();
		channel.opener.open(await peer.line(1));
		const guesses = [...Array.from({length: 50}, (_, index) => `guess${index}`), 'bob', ...Array.from({length: 49}, (_, index) => `more${index}`)];
		const started = performance.now();
		// frames before a login are at most 16 KiB: twenty logins each
		for (let start = 0; start < guesses.length; start += 20) {
			peer.write(channel.sealer.seal(guesses.slice(start, start + 20).map(name => RawPeer.login(channel, name))) + '\n');
		}
		const codes: string[] = [];
		let line = 2;
		while (codes.length < guesses.length) {
			for (const message of channel.opener.open(await peer.line(line++)) as Array<{type: string; code: string}>) codes.push(message.code);
		}
		const elapsed = performance.now() - started;
		const answer = new Map(guesses.map((name, index) => [name, codes[index]!]));
		const told = guesses.filter(name => answer.get(name) !== 'login_throttled');
		console.log(
			`login oracle: ${guesses.length} guesses in ${elapsed.toFixed(0)} ms; bob -> ${answer.get('bob')}, missing -> ${answer.get('guess0')}; answered before throttling: ${told.length}`,
		);
		// Whatever the answer to a missing name, it must not tell bob apart from it, or cost nothing.
		expect(answer.get('bob')).toBe(answer.get('guess49'));
		expect(told.length).toBeLessThanOrEqual(3);
	});
});
