import type {Logger} from './logger.js';
import type {RelayStore} from './relay-store.js';
import {guardStorage} from './storage-guard.js';

/** Delivery numbers reserved in the database at a time: one small write per this many envelopes. */
const deliveryBlock = 65_536;

/** The relay's delivery numbers, handed out in order from blocks reserved in the store. */
export class DeliveryNumbers {
	private nextDelivery = 0;
	private deliveriesEnd = 0;

	constructor(
		private readonly store: Pick<RelayStore, 'reserveDeliveries'>,
		private readonly log: Logger,
	) {}

	/** The next delivery number; undefined when the store could not reserve a block. */
	take(): number | undefined {
		if (this.nextDelivery >= this.deliveriesEnd) {
			const first = guardStorage(this.log, 'reserve', () => this.store.reserveDeliveries(deliveryBlock));
			if (first === undefined) return undefined;
			this.nextDelivery = first;
			this.deliveriesEnd = first + deliveryBlock;
		}
		return this.nextDelivery++;
	}
}
