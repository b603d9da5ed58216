// Fernet encrypt + decrypt of a 100-byte message: ours (node:crypto) against the fernet npm package.
import {createRequire} from 'node:module';
import {Fernet, generateFernetKey} from '../dist/crypto/fernet.js';
import {opsPerSecond, round} from './measure.mjs';

export function benchFernet() {
	const npm = createRequire(import.meta.url)('fernet');
	const key = generateFernetKey();
	const ours = Fernet.fromBase64Key(key);
	const secret = new npm.Secret(key);
	const message = 'x'.repeat(100);
	const oursRate = opsPerSecond(() => ours.decrypt(ours.encrypt(message)));
	const theirsRate = opsPerSecond(() => new npm.Token({secret, token: new npm.Token({secret}).encode(message), ttl: 0}).decode());
	return [
		{benchmark: 'fernet 100 B', metric: 'ours encrypt+decrypt', value: round(oursRate), unit: 'ops/s', note: `${round(1e6 / oursRate, 1)} µs each`},
		{benchmark: 'fernet 100 B', metric: 'fernet npm encrypt+decrypt', value: round(theirsRate), unit: 'ops/s', note: `${round(1e6 / theirsRate, 1)} µs each`},
		{benchmark: 'fernet 100 B', metric: 'speed-up', value: round(oursRate / theirsRate, 1), unit: 'x', note: 'target ≥ 10x'},
	];
}
