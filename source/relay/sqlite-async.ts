import type {AsyncRelayStore, EnqueuedEnvelope} from './async-store.js';
import type {NewEnvelope, RelayStore} from './relay-store.js';
import type {StoredRoom} from './room-store.js';

/** Delivery numbers reserved in the database at a time: one small write per this many envelopes (one relay owns the file). */
const deliveryBlock = 65_536;

type Method = (...args: never[]) => unknown;

/** The methods whose meaning is the same in both interfaces: each answered as it comes, outside an open batch. */
const plain = [
	'room', 'saveRoom', 'deleteRoom', 'appendLog', 'roomLog', 'roomMembers', 'saveMember', 'setAdmin', 'departMember', 'deleteMember',
	'setPosition', 'memberRoomCount', 'memberRooms', 'sharesRoom', 'hasReader', 'insertRoomItem', 'roomMessageById', 'insertRoomKeys',
	'deleteRoomKeys', 'roomItemCounts', 'roomItems', 'markDelivered', 'deleteReadItems', 'roomItemTotals', 'invite', 'saveInvite',
	'acceptInvite', 'deleteInvite', 'inviteCounts', 'invitesFor', 'acceptedInvites', 'purgeRooms', 'user', 'usersNamed', 'userCount',
	'firstUsernames', 'confirmUser', 'lapsedUsers', 'deleteUser', 'contactNames', 'contactCounts', 'contactKind', 'addContact',
	'chooseContact', 'evictOldestInbound', 'watchers', 'queued', 'queueTotals', 'ack', 'prekeyCount', 'savePrekeys', 'claimBundle',
	'purgeOlderThan',
] as const satisfies ReadonlyArray<keyof RelayStore & keyof AsyncRelayStore>;

/**
 * The embedded SQLite store (sqlite-store.ts) behind the asynchronous interface. better-sqlite3 is
 * synchronous and one relay owns the file, so each call runs at once; a batch is one transaction
 * that spans its awaits (begin ... commit), and calls from outside it wait until it ends, so
 * nothing of another event lands inside it or sees it half done.
 */
export function asyncSqliteStore(store: RelayStore): AsyncRelayStore {
	/** Settles when the open batch ends; undefined while none is open. */
	let open: Promise<void> | undefined;
	let nextDelivery = 0;
	let deliveriesEnd = 0;

	const takeDelivery = (): number => {
		if (nextDelivery >= deliveriesEnd) {
			nextDelivery = store.reserveDeliveries(deliveryBlock);
			deliveriesEnd = nextDelivery + deliveryBlock;
		}
		return nextDelivery++;
	};

	/** A reservation rolled back with its transaction must be made again: the next number reads the committed one. */
	const forgetBlock = (): void => {
		deliveriesEnd = 0;
	};

	const enqueue = (envelopes: ReadonlyArray<NewEnvelope & {delivery?: number}>): EnqueuedEnvelope[] => {
		try {
			return store.batch(() => {
				const numbered = envelopes.map(envelope => ({...envelope, delivery: envelope.delivery ?? takeDelivery()}));
				const stored = store.enqueue(numbered);
				return numbered.map(({delivery, from, id, to}, index) =>
					stored[index] ? {delivery, stored: true} : {delivery: store.queuedDelivery(from, id, to) ?? delivery, stored: false},
				);
			});
		} catch (error) {
			forgetBlock();
			throw error;
		}
	};

	const roomPrimitives = {
		createRoom(room: StoredRoom): boolean {
			return store.batch(() => {
				if (store.room(room.room) !== undefined) return false;
				store.saveRoom(room);
				return true;
			});
		},
		moveRoomHead(room: StoredRoom, expectedIndex: number): boolean {
			return store.batch(() => {
				if (store.room(room.room)?.index !== expectedIndex) return false;
				store.saveRoom(room);
				return true;
			});
		},
		takeRoomSeqs(name: string, count: number): number {
			return store.batch(() => {
				const row = store.room(name);
				if (row === undefined) throw new Error(`no room ${name}`);
				store.saveRoom({...row, lastSeq: row.lastSeq + count});
				return row.lastSeq + 1;
			});
		},
	};

	const registerUser = (user: Parameters<RelayStore['registerUser']>[0]): boolean =>
		store.batch(() => {
			if (store.user(user.username) !== undefined) return false;
			store.registerUser(user);
			return true;
		});

	/** The store's methods answered by promises; `gated`: wait for an open batch first (calls from outside it). */
	const methods = (gated: boolean): Omit<AsyncRelayStore, 'batch' | 'close' | 'kind'> => {
		const wrap =
			<F extends Method>(run: F) =>
			async (...args: Parameters<F>): Promise<ReturnType<F>> => {
				if (gated) while (open !== undefined) await open;
				return run(...args) as ReturnType<F>;
			};
		const wrapped: Record<string, unknown> = {};
		for (const name of plain) wrapped[name] = wrap((store[name] as Method).bind(store));
		wrapped['enqueue'] = wrap(enqueue);
		wrapped['registerUser'] = wrap(registerUser);
		for (const [name, run] of Object.entries(roomPrimitives)) wrapped[name] = wrap(run as Method);
		return wrapped as unknown as Omit<AsyncRelayStore, 'batch' | 'close' | 'kind'>;
	};

	const inside: AsyncRelayStore = {
		kind: 'sqlite',
		...methods(false),
		takeDelivery,
		batch: async work => work(inside),
		close: async () => {
			throw new Error('close the store, not a transaction');
		},
	};

	return {
		kind: 'sqlite',
		...methods(true),
		takeDelivery,
		async batch(work) {
			while (open !== undefined) await open;
			let release!: () => void;
			open = new Promise(resolve => {
				release = resolve;
			});
			try {
				store.begin();
				let result;
				try {
					result = await work(inside);
				} catch (error) {
					store.rollback();
					forgetBlock();
					throw error;
				}
				try {
					store.commit();
				} catch (error) {
					store.rollback();
					forgetBlock();
					throw error;
				}
				return result;
			} finally {
				open = undefined;
				release();
			}
		},
		async close() {
			while (open !== undefined) await open;
			store.close();
		},
	};
}
