import type {StoredInvite, StoredRoom} from './room-store.js';
import type {RoomView} from './room-types.js';

export function roomView(room: StoredRoom, now: number): RoomView {
	const {state} = room;
	const members = [...state.members.values()].map(({record, admin}) => ({username: record.username, admin})).sort((a, b) => compare(a.username, b.username));
	const view: RoomView = {
		room: room.room,
		topic: state.topic,
		members,
		admins: members.filter(member => member.admin).map(member => member.username),
		creator: state.creator,
		index: state.index,
		status: room.status,
		needsRekey: state.needsRekey,
	};
	if (room.note !== undefined) view.note = room.note;
	if (room.epoch !== undefined && room.freshAt !== undefined) view.epochAge = Math.max(0, now - room.freshAt);
	return view;
}

/** An invitation to a room this account holds no state of: what the relay said of it, and no members yet. */
export function invitedView(invite: StoredInvite): RoomView {
	return {
		room: invite.room,
		topic: invite.topic ?? '',
		members: [],
		admins: [invite.inviter],
		creator: '',
		index: -1,
		status: 'invited',
		needsRekey: false,
	};
}

function compare(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}
