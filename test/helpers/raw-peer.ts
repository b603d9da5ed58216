import {connect, type Socket} from 'node:net';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, loginProof, publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {
	deriveSessionKeys,
	encodeClientHello,
	newClientHello,
	parseRelayHello,
	transcriptHash,
} from '../../source/net/handshake.js';
import {FrameOpener, FrameSealer} from '../../source/net/secure-channel.js';
import {foldUsername} from '../../source/net/usernames.js';

/** A hand-driven client socket: writes exactly the bytes a test chooses and reads raw lines back. */
export class RawPeer {
	readonly lines: string[] = [];
	closed = false;
	private buffered = '';
	private waiters: Array<() => void> = [];

	private constructor(readonly socket: Socket) {
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			this.buffered += chunk;
			let end: number;
			while ((end = this.buffered.indexOf('\n')) !== -1) {
				this.lines.push(this.buffered.slice(0, end));
				this.buffered = this.buffered.slice(end + 1);
			}
			this.wake();
		});
		socket.on('error', () => {});
		socket.on('close', () => {
			this.closed = true;
			this.wake();
		});
	}

	/** `localAddress` may be any 127.x.y.z: all are loopback on Linux, so one test can be several hosts. */
	static async open(port: number, localAddress = '127.0.0.1'): Promise<RawPeer> {
		const socket = connect({host: '127.0.0.1', port, localAddress});
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		return new RawPeer(socket);
	}

	write(data: string | Buffer): void {
		this.socket.write(data);
	}

	/** Waits until line `index` has arrived (or the socket closed, then throws). */
	async line(index: number, timeoutMs = 5000): Promise<string> {
		const deadline = Date.now() + timeoutMs;
		while (this.lines.length <= index) {
			if (this.closed) throw new Error(`closed after ${this.lines.length} lines`);
			if (Date.now() > deadline) throw new Error(`timed out waiting for line ${index}`);
			await new Promise<void>(resolve => {
				this.waiters.push(resolve);
				setTimeout(resolve, 50);
			});
		}
		return this.lines[index]!;
	}

	async untilClosed(timeoutMs = 5000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!this.closed) {
			if (Date.now() > deadline) throw new Error('the relay did not close the connection');
			await new Promise<void>(resolve => {
				this.waiters.push(resolve);
				setTimeout(resolve, 50);
			});
		}
	}

	/** Sends a client_hello and resolves with the type of the relay's first line (relay_hello or error), or 'closed'. */
	async hello(): Promise<string> {
		this.write(encodeClientHello(newClientHello(generateRawKeyPair('x25519'))) + '\n');
		try {
			return (JSON.parse(await this.line(0)) as {type: string}).type;
		} catch {
			return 'closed';
		}
	}

	/** The code of the plaintext error the relay sent before closing, once it has closed. */
	async refusal(timeoutMs = 15_000): Promise<string | undefined> {
		await this.untilClosed(timeoutMs);
		const first = this.lines[0];
		return first === undefined ? undefined : (JSON.parse(first) as {code?: string}).code;
	}

	/** Runs the real handshake and returns the session's two directions. */
	async handshake(): Promise<{sealer: FrameSealer; opener: FrameOpener; relayIdentity: Buffer; transcript: Buffer}> {
		const ephemeral = generateRawKeyPair('x25519');
		const hello = newClientHello(ephemeral);
		this.write(encodeClientHello(hello) + '\n');
		const relayHello = parseRelayHello(await this.line(0));
		const transcript = transcriptHash(hello, relayHello.identity, relayHello.ephemeral);
		const keys = deriveSessionKeys(ephemeral.privateKey, relayHello.ephemeral, transcript);
		return {
			sealer: new FrameSealer(keys.clientToRelay),
			opener: new FrameOpener(keys.relayToClient, 1024),
			relayIdentity: relayHello.identity,
			transcript,
		};
	}

	/** The `login` a real client would send for `username` on this connection. */
	static login(
		channel: {relayIdentity: Buffer; transcript: Buffer},
		username: string,
		keys: IdentityKeys = generateIdentity(),
	): {type: 'login'; username: string; identity: string; x25519: string; binding: string; proof: string} {
		// signed for the folded name, sent as given: the relay folds before it checks
		const folded = foldUsername(username);
		const record = publicIdentity(keys, folded);
		return {
			type: 'login',
			username,
			identity: toBase64Url(record.identity),
			x25519: toBase64Url(record.x25519),
			binding: toBase64Url(record.binding),
			proof: toBase64Url(loginProof(keys, channel.relayIdentity, channel.transcript, folded)),
		};
	}

	private wake(): void {
		for (const waiter of this.waiters.splice(0)) waiter();
	}
}

/** What the relay answers `message` sent right after the handshake, before any login; the connection then ends. */
export async function answerBeforeLogin(port: number, message: object): Promise<unknown[]> {
	const peer = await RawPeer.open(port);
	const channel = await peer.handshake();
	channel.opener.open(await peer.line(1));
	peer.write(channel.sealer.seal([message]) + '\n');
	const answer = channel.opener.open(await peer.line(2));
	await peer.untilClosed();
	return answer;
}
