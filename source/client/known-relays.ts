import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import {timingSafeEqual} from 'node:crypto';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';

/** The client's pins of relay keys per host:port (PROTOCOL.md section 7), like ssh's known_hosts. */
export type PinCheck = {state: 'unknown'} | {state: 'match'} | {state: 'changed'; pinned: Buffer};

export function relayAddress(host: string, port: number): string {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class KnownRelays {
	constructor(readonly path: string) {}

	check(host: string, port: number, publicKey: Buffer): PinCheck {
		const pinned = this.read()[relayAddress(host, port)];
		if (pinned === undefined) return {state: 'unknown'};
		const pinnedKey = fromBase64Url(pinned, 32);
		return timingSafeEqual(pinnedKey, publicKey) ? {state: 'match'} : {state: 'changed', pinned: pinnedKey};
	}

	/** Adds a pin for an unknown relay; never replaces one (a changed key is removed by hand). */
	pin(host: string, port: number, publicKey: Buffer): void {
		const pins = this.read();
		const address = relayAddress(host, port);
		if (pins[address] !== undefined) throw new Error(`${address} is already pinned in ${this.path}`);
		pins[address] = toBase64Url(publicKey);
		mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
		const temporary = `${this.path}.${process.pid}.tmp`;
		writeFileSync(temporary, JSON.stringify(pins, null, 2) + '\n', {mode: 0o600});
		renameSync(temporary, this.path);
	}

	private read(): Record<string, string> {
		let text: string;
		try {
			text = readFileSync(this.path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
			throw error;
		}
		let pins: unknown;
		try {
			pins = JSON.parse(text);
		} catch {
			throw new Error(`${this.path} is damaged (not JSON); fix or remove it`);
		}
		if (typeof pins !== 'object' || pins === null || Array.isArray(pins)) {
			throw new Error(`${this.path} is damaged (expected an object of host:port to key)`);
		}
		for (const [address, key] of Object.entries(pins)) {
			if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(key)) {
				throw new Error(`${this.path} is damaged (bad key for ${address})`);
			}
		}
		return pins as Record<string, string>;
	}
}
