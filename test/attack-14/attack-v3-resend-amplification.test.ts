import {describe, expect, it} from 'vitest';
import {ratchetPair, write} from '../helpers/ratchet-pair.js';
import {craft} from './craft.js';

// A contact who never sends receipts keeps every text the victim wrote to them "unconfirmed" (up to
// 1,000 per contact, 30 days). Each X3DH first message they send with payload type "reset" (or any
// payload once the victim's session is confirmed) is settled as THEY REBUILT, and
// SessionStarter.changed() then unseals and seals again every unconfirmed text, under new ids:
// one envelope of ~200 bytes from the attacker costs the victim up to 1,000 seals and 1,000 sends
// (8 MB of bodies), and it can be repeated at the relay's send rate. The victim's outbox and
// relay rate budget go to the attacker; its messages to everyone else wait behind them.
// An honest client rebuilds at most once per resetIntervalMs (10 minutes) per contact, so the
// victim honours at most one such resend per contact in that window: later rebuilds switch
// sessions but send nothing again (PROTOCOL.md section 14.5).
describe('attack v3: a contact making the victim resend its unconfirmed texts', () => {
	it('resends them at most once per resetIntervalMs, however many sessions the contact starts', () => {
		const {alice: mallory, bob: victim} = ratchetPair();
		victim.e2e.open(write(mallory, victim, 'hi'));
		const texts = 200;
		for (let index = 0; index < texts; index++) victim.e2e.seal('alice', 'direct', `t${index}`, `text ${index} ${'x'.repeat(100)}`);
		let resealed = 0;
		for (let round = 0; round < 5; round++) {
			const opened = victim.e2e.open(craft(mallory, victim, counter => ({v: 1, counter, type: 'reset'}), {fresh: true}));
			expect(opened).toMatchObject({type: 'reset', change: {activated: true, resetByThem: true}});
			// what the next flush does
			resealed += victim.e2e.sealWaiting('alice', 1000).length;
		}
		expect(resealed).toBeLessThanOrEqual(texts);
	});
});
