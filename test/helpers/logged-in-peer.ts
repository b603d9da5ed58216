import {expect} from 'vitest';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {RawPeer} from './raw-peer.js';

export type PeerMessage = {type: string; [field: string]: unknown};

/**
 * A hand-driven client that has logged in: it sends exactly the messages a test gives it (and
 * never acks by itself) and keeps every message the relay sent after the handshake, in order.
 */
export async function loggedInPeer(
	port: number,
	username: string,
	options: {keys?: IdentityKeys; roster?: false; localAddress?: string} = {},
) {
	const peer = await RawPeer.open(port, options.localAddress);
	const channel = await peer.handshake();
	const opened: PeerMessage[] = [];
	let linesOpened = 1;
	const messages = () => {
		while (linesOpened < peer.lines.length) opened.push(...(channel.opener.open(peer.lines[linesOpened++]!) as PeerMessage[]));
		return opened;
	};
	const send = (...batch: object[]) => peer.write(channel.sealer.seal(batch) + '\n');
	await peer.line(1);
	send({...RawPeer.login(channel, username, options.keys ?? generateIdentity()), ...(options.roster === false ? {roster: false} : {})});
	await expect.poll(() => messages().some(message => message.type === 'welcome')).toBe(true);
	return {
		peer,
		send,
		messages,
		/** Waits for the first message after index `from` that `wanted` picks, and returns it. */
		async until(wanted: (message: PeerMessage) => boolean, from = 0, timeout = 5000): Promise<PeerMessage> {
			await expect.poll(() => messages().slice(from).some(wanted), {timeout}).toBe(true);
			return messages().slice(from).find(wanted)!;
		},
		close: () => peer.socket.destroy(),
	};
}

/** A `send` of an opaque envelope, as the relay sees one. */
export function opaqueSend(id: string, to: string, kind: 'direct' | 'everyone' = 'direct') {
	return {type: 'send', id, to, kind, ephemeral: 'A'.repeat(43), body: `opaque-${id}`};
}
