import {generateRawKeyPair, type RawKeyPair} from '../crypto/raw-keys.js';
import {deriveSessionKeys, encodeRelayHello, parseClientHello, signTranscript, transcriptHash} from '../net/handshake.js';
import {FrameOpener, FrameSealer, PlaintextFrames, type FrameOpening, type FrameSealing} from '../net/secure-channel.js';

/** The relay's half of a handshake: the relay_hello line to send, the hash a login signs, and the session's frame codecs. */
export type HelloAnswer = {
	relayHello: string;
	transcriptHash: Buffer;
	sealer: FrameSealing;
	opener: FrameOpening;
};

/**
 * Answers a client_hello frame with a fresh ephemeral key, signed with the relay's identity.
 * `plaintextFrames` is for benchmarks only: batches go unencrypted, to show what the crypto costs.
 */
export function answerHello(frame: string, identity: RawKeyPair, maxBatchMessages: number, plaintextFrames: boolean): HelloAnswer {
	const hello = parseClientHello(frame);
	const ephemeral = generateRawKeyPair('x25519');
	const hash = transcriptHash(hello, identity.publicRaw, ephemeral.publicRaw);
	const keys = deriveSessionKeys(ephemeral.privateKey, hello.ephemeral, hash);
	const signature = signTranscript(identity.privateKey, hash);
	const relayHello = encodeRelayHello({identity: identity.publicRaw, ephemeral: ephemeral.publicRaw, signature}) + '\n';
	if (plaintextFrames) {
		const frames = new PlaintextFrames(maxBatchMessages);
		return {relayHello, transcriptHash: hash, sealer: frames, opener: frames};
	}
	return {relayHello, transcriptHash: hash, sealer: new FrameSealer(keys.relayToClient), opener: new FrameOpener(keys.clientToRelay, maxBatchMessages)};
}
