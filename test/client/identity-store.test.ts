import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {publicIdentity, verifyBinding} from '../../source/crypto/identity.js';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {accountDirectory, loadOrCreateIdentity, writeFileAtomicSync} from '../../source/client/identity-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const relay = fingerprint(generateRawKeyPair('ed25519').publicRaw);
const otherRelay = fingerprint(generateRawKeyPair('ed25519').publicRaw);

function filePath(dataDir: string, username = 'alice', relayFingerprint = relay): string {
	return join(dataDir, relayFingerprint, username, 'identity.json');
}

describe('loadOrCreateIdentity', () => {
	it('makes an identity on first use in a 0600 file inside 0700 directories', () => {
		const dataDir = join(tempDir(), 'data');
		const keys = loadOrCreateIdentity(dataDir, relay, 'alice');
		expect(verifyBinding('alice', publicIdentity(keys, 'alice'))).toBe(true);
		expect(statSync(filePath(dataDir)).mode & 0o777).toBe(0o600);
		for (const directory of [dataDir, join(dataDir, relay), join(dataDir, relay, 'alice')]) {
			expect(statSync(directory).mode & 0o777, directory).toBe(0o700);
		}
		expect(readdirSync(join(dataDir, relay, 'alice'))).toEqual(['identity.json']);
	});

	it('loads the same keys on every later call', () => {
		const dataDir = tempDir();
		const first = loadOrCreateIdentity(dataDir, relay, 'alice');
		const again = loadOrCreateIdentity(dataDir, relay, 'alice');
		expect(again.identity.publicRaw).toEqual(first.identity.publicRaw);
		expect(again.x25519.publicRaw).toEqual(first.x25519.publicRaw);
		expect(publicIdentity(again, 'alice')).toEqual(publicIdentity(first, 'alice'));
	});

	it('keeps one identity per relay and username', () => {
		const dataDir = tempDir();
		const alice = loadOrCreateIdentity(dataDir, relay, 'alice');
		const bob = loadOrCreateIdentity(dataDir, relay, 'bob');
		const aliceElsewhere = loadOrCreateIdentity(dataDir, otherRelay, 'alice');
		const keys = [alice, bob, aliceElsewhere].map(keys => keys.identity.publicRaw.toString('hex'));
		expect(new Set(keys).size).toBe(3);
	});

	it('refuses a key file other users can read or write, and leaves it alone', () => {
		const dataDir = tempDir();
		const keys = loadOrCreateIdentity(dataDir, relay, 'alice');
		const path = filePath(dataDir);
		const content = readFileSync(path, 'utf8');
		for (const mode of [0o640, 0o604, 0o620, 0o660]) {
			chmodSync(path, mode);
			expect(() => loadOrCreateIdentity(dataDir, relay, 'alice'), mode.toString(8)).toThrow(/other users.*chmod 600/);
			expect(readFileSync(path, 'utf8')).toBe(content);
		}
		chmodSync(path, 0o600);
		expect(loadOrCreateIdentity(dataDir, relay, 'alice').identity.publicRaw).toEqual(keys.identity.publicRaw);
	});

	it.each<[string, (record: Record<string, any>) => unknown]>([
		['not JSON', () => '{"version":1,'],
		['empty', () => ''],
		['another version', record => ({...record, version: 2})],
		['no x25519 key', record => ({...record, x25519: undefined})],
		['a short secret', record => ({...record, identity: {...record.identity, secret: record.identity.secret.slice(0, 42)}})],
		['a public key that does not match', record => ({...record, x25519: {...record.x25519, public: record.identity.public}})],
		['padded base64', record => ({...record, identity: {...record.identity, secret: record.identity.secret + '='}})],
		["another user's file", record => ({...record, username: 'bob'})],
		["another relay's file", record => ({...record, relay: otherRelay})],
		['an array', () => []],
	])('refuses a damaged file (%s) and never overwrites it', (_, damage) => {
		const dataDir = tempDir();
		loadOrCreateIdentity(dataDir, relay, 'alice');
		const path = filePath(dataDir);
		const damaged = damage(JSON.parse(readFileSync(path, 'utf8')));
		const text = typeof damaged === 'string' ? damaged : JSON.stringify(damaged);
		writeFileSync(path, text, {mode: 0o600});
		expect(() => loadOrCreateIdentity(dataDir, relay, 'alice')).toThrow(/damaged.*restore it from a backup/);
		expect(readFileSync(path, 'utf8')).toBe(text);
	});

	it('never puts a secret in its error messages', () => {
		const dataDir = tempDir();
		loadOrCreateIdentity(dataDir, relay, 'alice');
		const path = filePath(dataDir);
		const record = JSON.parse(readFileSync(path, 'utf8'));
		writeFileSync(path, JSON.stringify({...record, x25519: {...record.x25519, public: record.identity.public}}));
		let message = '';
		try {
			loadOrCreateIdentity(dataDir, relay, 'alice');
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toMatch(/damaged/);
		expect(message).not.toContain(record.identity.secret);
		expect(message).not.toContain(record.x25519.secret);
	});

	it('refuses a directory in place of the file', () => {
		const dataDir = tempDir();
		mkdirSync(filePath(dataDir), {recursive: true});
		expect(() => loadOrCreateIdentity(dataDir, relay, 'alice')).toThrow();
	});

	it('refuses names and fingerprints that are not safe path parts', () => {
		const dataDir = tempDir();
		for (const username of ['..', '../bob', 'Alice', 'a/b', '', 'everyone']) {
			expect(() => loadOrCreateIdentity(dataDir, relay, username), username).toThrow(TypeError);
		}
		for (const relayFingerprint of ['..', relay.toUpperCase(), relay.slice(1), `${relay.slice(0, 63)}/`]) {
			expect(() => loadOrCreateIdentity(dataDir, relayFingerprint, 'alice')).toThrow(TypeError);
		}
		expect(readdirSync(dataDir)).toEqual([]);
		expect(accountDirectory('/data', relay, 'alice')).toBe(`/data/${relay}/alice`);
	});
});

describe('writeFileAtomicSync', () => {
	it('replaces a file whole, with mode 0600, and leaves no temporary file', () => {
		const directory = tempDir();
		const path = join(directory, 'file.json');
		expect(writeFileAtomicSync(path, 'one', {replace: true})).toBe(true);
		expect(writeFileAtomicSync(path, 'two', {replace: true})).toBe(true);
		expect(readFileSync(path, 'utf8')).toBe('two');
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(readdirSync(directory)).toEqual(['file.json']);
	});

	it('without replace, creates a file only if there is none', () => {
		const directory = tempDir();
		const path = join(directory, 'identity.json');
		expect(writeFileAtomicSync(path, 'first', {replace: false})).toBe(true);
		expect(writeFileAtomicSync(path, 'second', {replace: false})).toBe(false);
		expect(readFileSync(path, 'utf8')).toBe('first');
		expect(readdirSync(directory)).toEqual(['identity.json']);
	});

	it('leaves the old file when the write fails', () => {
		const directory = tempDir();
		const path = join(directory, 'missing-directory', 'file.json');
		expect(() => writeFileAtomicSync(path, 'x', {replace: true})).toThrow();
		expect(existsSync(path)).toBe(false);
		expect(readdirSync(directory)).toEqual([]);
	});
});
