import type {RelayLimits} from './relay-options.js';

export type AdmissionVerdict = 'ok' | 'server_full' | 'too_many_connections';

/**
 * Counts open connections, in all and per address (see addressKey), and decides whether one more
 * may open: a handshake flood fills at most maxConnectionsPerAddress slots, and the relay as a
 * whole never holds more than maxConnections. Every admit() that says ok needs one release().
 */
export class Admission {
	private total = 0;
	private readonly perAddress = new Map<string, number>();

	constructor(private readonly limits: Pick<RelayLimits, 'maxConnections' | 'maxConnectionsPerAddress'>) {}

	admit(address: string): AdmissionVerdict {
		if (this.total >= this.limits.maxConnections) return 'server_full';
		const count = this.perAddress.get(address) ?? 0;
		if (count >= this.limits.maxConnectionsPerAddress) return 'too_many_connections';
		this.total += 1;
		this.perAddress.set(address, count + 1);
		return 'ok';
	}

	release(address: string): void {
		const count = this.perAddress.get(address);
		if (count === undefined) return;
		this.total -= 1;
		if (count <= 1) this.perAddress.delete(address);
		else this.perAddress.set(address, count - 1);
	}

	/** Open connections in all. */
	get size(): number {
		return this.total;
	}

	/** Addresses with at least one open connection: what the per-address map holds. */
	get addresses(): number {
		return this.perAddress.size;
	}
}
