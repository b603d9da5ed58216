import {createServer, connect, type Socket} from 'node:net';

/**
 * A TCP relay between a client and a server (a real socket each way), for network failures a test
 * can cause: `freeze` stops carrying bytes on the connections open now without closing them (a
 * silent network: nothing arrives, nothing fails), `refuse` closes new connections at once,
 * `cut` closes the ones open now.
 */
export type TcpProxy = {
	readonly port: number;
	/** The URL of `url` with its host and port replaced by this proxy's. */
	through(url: string): string;
	freeze(): void;
	refuse(refusing: boolean): void;
	cut(): void;
	close(): Promise<void>;
};

export async function startTcpProxy(target: {host: string; port: number}): Promise<TcpProxy> {
	const pairs = new Set<[Socket, Socket]>();
	let refusing = false;
	const server = createServer(inbound => {
		if (refusing) {
			inbound.destroy();
			return;
		}
		const outbound = connect(target.port, target.host);
		const pair: [Socket, Socket] = [inbound, outbound];
		pairs.add(pair);
		inbound.pipe(outbound);
		outbound.pipe(inbound);
		const end = () => {
			pairs.delete(pair);
			inbound.destroy();
			outbound.destroy();
		};
		inbound.on('error', end).on('close', end);
		outbound.on('error', end).on('close', end);
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
	const cut = () => {
		for (const [inbound, outbound] of pairs) {
			inbound.destroy();
			outbound.destroy();
		}
	};
	return {
		port: address.port,
		through(url) {
			const proxied = new URL(url);
			proxied.hostname = '127.0.0.1';
			proxied.port = String(address.port);
			return proxied.toString();
		},
		freeze() {
			for (const [inbound, outbound] of pairs) {
				inbound.unpipe(outbound);
				outbound.unpipe(inbound);
				inbound.pause();
				outbound.pause();
			}
		},
		refuse(on) {
			refusing = on;
		},
		cut,
		async close() {
			cut();
			await new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}
