import {connect, type Socket} from 'node:net';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {encodeClientHello, newClientHello} from '../../source/net/handshake.js';

/**
 * A connection that never speaks unless told to, from a chosen loopback address (127.0.0.2 and up
 * are loopback too on Linux): what a handshake flood is made of. Records the lines it is sent.
 */
export class SilentPeer {
	readonly lines: string[] = [];
	readonly closed: Promise<void>;
	private buffered = '';

	private constructor(readonly socket: Socket) {
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			this.buffered += chunk;
			let end: number;
			while ((end = this.buffered.indexOf('\n')) !== -1) {
				this.lines.push(this.buffered.slice(0, end));
				this.buffered = this.buffered.slice(end + 1);
			}
		});
		socket.on('error', () => {});
		this.closed = new Promise(resolve => socket.once('close', () => resolve()));
	}

	static async open(port: number, localAddress = '127.0.0.1'): Promise<SilentPeer> {
		const socket = connect({host: '127.0.0.1', port, localAddress});
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		return new SilentPeer(socket);
	}

	/** Sends a client_hello and resolves with the type of the relay's first line: relay_hello, or error. */
	async hello(): Promise<string> {
		this.socket.write(encodeClientHello(newClientHello(generateRawKeyPair('x25519'))) + '\n');
		await new Promise<void>(resolve => {
			const check = () => {
				if (this.lines.length === 0) return;
				this.socket.off('data', check);
				resolve();
			};
			this.socket.on('data', check);
			void this.closed.then(resolve);
		});
		return this.lines.length === 0 ? 'closed' : (JSON.parse(this.lines[0]!) as {type: string}).type;
	}

	/** The code of the plaintext error the relay sent before closing, once it has closed. */
	async refusal(): Promise<string | undefined> {
		await this.closed;
		const first = this.lines[0];
		return first === undefined ? undefined : (JSON.parse(first) as {code?: string}).code;
	}
}
