import type {Buffer} from 'node:buffer';
import {createCipheriv, createDecipheriv, type Cipher, type Decipher} from 'node:crypto';

const blockLength = 16;

/**
 * At most this many OpenSSL contexts are kept, about 2 KB each; the least recently used one is
 * dropped and made again on its next use. 10,000 idle connections must not cost 40 MB of them.
 */
export const maxLiveContexts = 1024;
const live = new Set<CbcStream>();

/**
 * AES-128-CBC over whole blocks, one message after another under one key, through one persistent
 * OpenSSL context instead of a new one per message: making a context costs more than encrypting
 * a small frame with it.
 *
 * A CBC context chains each message from the last ciphertext block it saw. The first block is
 * corrected by that block and the message's own IV, in plaintext before encrypting or in output
 * after decrypting, so each message is exactly AES-128-CBC under its own IV.
 */
export class CbcStream {
	#context: Cipher | Decipher | undefined;

	/**
	 * `memory` holds the 16-byte key at `keyOffset` and, at `chainOffset`, 16 bytes for the last
	 * ciphertext block the context has seen (the IV it would chain the next message from), zero at
	 * first. The owner's buffer, not one per stream: a relay keeps two streams per connection.
	 */
	constructor(
		private readonly memory: Buffer,
		private readonly keyOffset: number,
		private readonly chainOffset: number,
		private readonly direction: 'encrypt' | 'decrypt',
	) {}

	/** Encrypts `blocks` (a multiple of 16 bytes, already padded) under `iv`. Overwrites `blocks`' first block. */
	encrypt(iv: Uint8Array, blocks: Buffer): Buffer {
		const {memory, chainOffset} = this;
		for (let index = 0; index < blockLength; index++) blocks[index]! ^= iv[index]! ^ memory[chainOffset + index]!;
		const output = this.#use().update(blocks);
		output.copy(memory, chainOffset, output.length - blockLength);
		return output;
	}

	/** Decrypts `blocks` (a multiple of 16 bytes) made under `iv`; the padding is left on. */
	decrypt(iv: Uint8Array, blocks: Uint8Array): Buffer {
		const output = this.#use().update(blocks);
		const {memory, chainOffset} = this;
		for (let index = 0; index < blockLength; index++) output[index]! ^= iv[index]! ^ memory[chainOffset + index]!;
		memory.set(blocks.subarray(blocks.length - blockLength), chainOffset);
		return output;
	}

	/** Forgets the context (the next message makes a new one); for a key that is done with. */
	release(): void {
		this.#context = undefined;
		live.delete(this);
	}

	#use(): Cipher | Decipher {
		let context = this.#context;
		if (context) {
			live.delete(this);
			live.add(this);
			return context;
		}
		if (live.size >= maxLiveContexts) {
			const oldest = live.values().next().value!;
			oldest.release();
		}
		// Made with the chain block as its IV, a new context goes on exactly where the old one stopped.
		const key = this.memory.subarray(this.keyOffset, this.keyOffset + blockLength);
		const chain = this.memory.subarray(this.chainOffset, this.chainOffset + blockLength);
		context = this.direction === 'encrypt' ? createCipheriv('aes-128-cbc', key, chain) : createDecipheriv('aes-128-cbc', key, chain);
		context.setAutoPadding(false);
		this.#context = context;
		live.add(this);
		return context;
	}
}
