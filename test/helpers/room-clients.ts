import {expect} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import type {RoomView} from '../../source/client/rooms/room-types.js';
import type {RelayMessage} from '../../source/net/messages.js';

/** Headless clients in rooms, with a real relay (test/client/rooms-*.test.ts). */

export async function until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
	await expect.poll(condition, {timeout, interval: 20, message: what}).toBe(true);
}

export function roomOf(client: ChatClient, room: string): RoomView | undefined {
	return client.rooms.list().find(view => view.room === room);
}

export function isMember(client: ChatClient, room: string): boolean {
	return roomOf(client, room)?.status === 'member';
}

/** `creator` makes `room`; each of `others` is invited, accepts, and is a member (everyone sees everyone). */
export async function roomWith(room: string, creator: ChatClient, others: readonly ChatClient[], topic = ''): Promise<void> {
	creator.rooms.create(room, topic);
	await until(() => isMember(creator, room), `${creator.username} made #${room}`);
	for (const other of others) await join(room, creator, other);
	const everyone = [creator, ...others];
	await until(() => everyone.every(client => roomOf(client, room)?.members.length === everyone.length), `everyone sees every member of #${room}`);
}

/** `admin` invites `newcomer`, who accepts when the invitation arrives; resolves once it is a member. */
export async function join(room: string, admin: ChatClient, newcomer: ChatClient): Promise<void> {
	admin.rooms.invite(room, newcomer.username!);
	await until(() => newcomer.rooms.invites().some(invite => invite.room === room), `${newcomer.username} was invited to #${room}`);
	newcomer.rooms.accept(room);
	await until(() => isMember(newcomer, room), `${newcomer.username} is in #${room}`);
}

/** The texts of `room` `client` was shown, in order. */
export function textsIn(messages: ReadonlyArray<ClientEvents['room-message']>, room: string): string[] {
	return messages.filter(([message]) => message.room === room).map(([message]) => message.text);
}

/** Every frame the relay sends `client` from now on, recorded before the client handles it; `drop` frames are recorded and not handled. */
export function tap(client: ChatClient, drop: (message: RelayMessage) => boolean = () => false): RelayMessage[] {
	const frames: RelayMessage[] = [];
	const target = client as unknown as {dispatch: (message: RelayMessage) => void};
	const dispatch = target.dispatch.bind(client);
	target.dispatch = message => {
		frames.push(message);
		if (!drop(message)) dispatch(message);
	};
	return frames;
}

/** Hands `frames` to `client` as if its relay sent them (a hostile relay forwarding what others got). */
export function inject(client: ChatClient, frames: readonly RelayMessage[]): void {
	const target = client as unknown as {dispatch: (message: RelayMessage) => void};
	for (const frame of frames) target.dispatch(frame);
}
