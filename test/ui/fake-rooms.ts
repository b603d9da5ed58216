import type {RoomInvite, Rooms, RoomView} from '../../source/hooks/rooms/room-api.js';

/** A scripted RoomSession: records what it was asked, and refuses what `refuse` names with that sentence. */
export class FakeRooms implements Rooms {
	calls: string[] = [];
	views: RoomView[] = [];
	pending: RoomInvite[] = [];
	refuse = new Map<string, string>();
	#sent = 0;

	#call(call: string): void {
		this.calls.push(call);
		const name = call.split(' ')[0]!;
		const refusal = this.refuse.get(name);
		if (refusal !== undefined) throw new Error(refusal);
	}

	create(name: string, topic?: string): void {
		this.#call(`create ${name} ${topic ?? ''}`.trimEnd());
	}

	invite(room: string, username: string): void {
		this.#call(`invite ${room} ${username}`);
	}

	accept(room: string): void {
		this.#call(`accept ${room}`);
	}

	decline(room: string): void {
		this.#call(`decline ${room}`);
	}

	kick(room: string, username: string): void {
		this.#call(`kick ${room} ${username}`);
	}

	leave(room: string): void {
		this.#call(`leave ${room}`);
	}

	makeAdmin(room: string, username: string): void {
		this.#call(`admin ${room} ${username}`);
	}

	setTopic(room: string, topic: string): void {
		this.#call(`topic ${room} ${topic}`);
	}

	rekey(room: string): void {
		this.#call(`rekey ${room}`);
	}

	send(room: string, text: string): string {
		this.#call(`send ${room} ${text}`);
		return `r${++this.#sent}`;
	}

	list(): RoomView[] {
		return this.views;
	}

	invites(): RoomInvite[] {
		return this.pending;
	}
}
