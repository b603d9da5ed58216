import {randomBytes} from 'node:crypto';
import {chmodSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {meet, next, onlineClient} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {runToExit, serverBin, spawnRelay} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('the im-tui-server process', () => {
	it('prints how to connect, relays, logs structured lines without text or keys, and stops cleanly on SIGTERM', async () => {
		const dataDir = join(tempDir(), 'relay');
		const relay = await spawnRelay(['--data-dir', dataDir, '--motd', 'welcome aboard']);
		expect(relay.stdout()).toContain(`im-tui relay listening on 127.0.0.1:${relay.port}`);
		expect(relay.stdout()).toMatch(/fingerprint: {2}([0-9a-f]{4} ){15}[0-9a-f]{4}/);
		expect(relay.stdout()).toContain(`npx im-tui --host 127.0.0.1 --port ${relay.port} --trust ${relay.fingerprint}`);
		const keyFile = join(dataDir, 'relay_identity.json');
		expect(statSync(keyFile).mode & 0o777).toBe(0o600);
		expect(statSync(dataDir).mode & 0o777).toBe(0o700);

		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const marker = `secret-${randomBytes(8).toString('hex')}`;
		const received = next(bob, 'message');
		alice.send('bob', marker);
		expect((await received)[0].text).toBe(marker);
		const left = next(alice, 'user-left');
		await bob.close();
		await left;

		const shutdown = next(alice, 'closed');
		relay.child.kill('SIGTERM');
		expect((await shutdown)[0].code).toBe('shutdown');
		expect(await relay.exited).toBe(0);

		const logs = relay.stderr().trim().split('\n').map(line => JSON.parse(line) as {event: string; user?: string});
		const events = logs.map(entry => `${entry.event}${entry.user ? ':' + entry.user : ''}`);
		expect(events).toEqual(expect.arrayContaining(['listening', 'join:alice', 'join:bob', 'leave:bob', 'signal', 'stopped']));
		const output = relay.stdout() + relay.stderr();
		expect(output).not.toContain(marker);
		const secret = (JSON.parse(readFileSync(keyFile, 'utf8')) as {private: string}).private;
		expect(output).not.toContain(secret);
	});

	it('keeps its identity across restarts', async () => {
		const dataDir = join(tempDir(), 'relay');
		const first = await spawnRelay(['--data-dir', dataDir]);
		first.child.kill('SIGINT');
		expect(await first.exited).toBe(0);
		const second = await spawnRelay(['--data-dir', dataDir]);
		expect(second.fingerprint).toBe(first.fingerprint);
		second.child.kill('SIGTERM');
		expect(await second.exited).toBe(0);
	});

	it('refuses to start with a key file others can read', async () => {
		const dataDir = join(tempDir(), 'relay');
		const first = await spawnRelay(['--data-dir', dataDir]);
		first.child.kill('SIGTERM');
		await first.exited;
		chmodSync(join(dataDir, 'relay_identity.json'), 0o644);
		const result = await runToExit(serverBin, ['--port', '0', '--data-dir', dataDir]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('readable by other users');
	});

	it('rejects a bad port with a clear message and exit code 2', async () => {
		const result = await runToExit(serverBin, ['--port', '70000', '--data-dir', tempDir()]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--port must be a whole number from 0 to 65535');
	});

	it('takes its limits from flags (--rate-limit off lifts the rate limit), and rejects bad ones with exit code 2', async () => {
		const relay = await spawnRelay(['--data-dir', tempDir(), '--rate-limit', 'off', '--max-connections-per-address', '1']);
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		// far past the default burst of 200: all answered (four frames: before a login a frame holds at most 16 KiB)
		for (let frame = 0; frame < 4; frame++) {
			peer.write(channel.sealer.seal(Array.from({length: 250}, (_, nonce) => ({type: 'ping', nonce: frame * 250 + nonce}))) + '\n');
		}
		const replies: Array<{type: string}> = [];
		for (let index = 1; replies.length < 1001; index++) replies.push(...(channel.opener.open(await peer.line(index)) as Array<{type: string}>));
		expect(replies.filter(reply => reply.type === 'pong')).toHaveLength(1000);
		const second = await RawPeer.open(relay.port);
		expect(JSON.parse(await second.line(0))).toMatchObject({code: 'too_many_connections'});
		relay.child.kill('SIGTERM');
		expect(await relay.exited).toBe(0);

		for (const [flag, value] of [
			['--rate-limit', 'fast'],
			['--max-connections', '0'],
			['--max-connections-per-address', 'many'],
			['--max-pending', '0'],
			['--handshake-limit', '1'],
			['--registration-limit', 'lots'],
			['--max-users', '-1'],
			['--presence', 'maybe'],
		]) {
			const result = await runToExit(serverBin, ['--port', '0', '--data-dir', tempDir(), flag!, value!]);
			expect(result.code, flag).toBe(2);
			expect(result.stderr).toContain(`${flag} must be`);
		}
	});
});
