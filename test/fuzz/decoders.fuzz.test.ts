import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {Fernet} from '../../source/crypto/fernet.js';
import {EnvelopeError} from '../../source/crypto/envelope.js';
import {parsePayload} from '../../source/net/e2e-payload.js';
import {ProtocolError} from '../../source/net/error-codes.js';
import {parseClientHello, parseRelayHello} from '../../source/net/handshake.js';
import {LineDecoder} from '../../source/net/line-decoder.js';
import {parseClientMessage, parseRelayMessage} from '../../source/net/messages.js';
import {FrameOpener} from '../../source/net/secure-channel.js';
import {messageLike} from '../helpers/hostile.js';

// Property tests of every decoder a peer's bytes reach: whatever comes in, the only failure is the
// documented one (a ProtocolError with a stable code, or an EnvelopeError), never a crash.
// IM_TUI_FUZZ_RUNS raises the count for a benchmark-length run.
const numRuns = Number(process.env.IM_TUI_FUZZ_RUNS ?? 2000);

function onlyProtocolErrors(action: () => unknown): void {
	try {
		action();
	} catch (error) {
		if (!(error instanceof ProtocolError)) throw error;
		expect(typeof error.code).toBe('string');
	}
}

describe('fuzzing the decoders', () => {
	it('the line decoder holds at most maxFrameBytes and throws only frame_too_large', () => {
		fc.assert(
			fc.property(fc.array(fc.uint8Array({maxLength: 300}), {maxLength: 20}), chunks => {
				const decoder = new LineDecoder(256);
				for (const chunk of chunks) {
					try {
						for (const frame of decoder.push(Buffer.from(chunk))) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(256 * 3);
					} catch (error) {
						expect((error as ProtocolError).code).toBe('frame_too_large');
					}
					expect(decoder.bufferedBytes).toBeLessThanOrEqual(256);
				}
			}),
			{numRuns},
		);
	});

	it('hello parsers throw only protocol errors on any text', () => {
		fc.assert(
			fc.property(fc.oneof(fc.string(), messageLike.map(value => JSON.stringify(value) ?? '')), text => {
				onlyProtocolErrors(() => parseClientHello(text));
				onlyProtocolErrors(() => parseRelayHello(text));
			}),
			{numRuns},
		);
	});

	it('message parsers throw only bad_message on any JSON value', () => {
		fc.assert(
			fc.property(messageLike, value => {
				onlyProtocolErrors(() => parseClientMessage(value));
				onlyProtocolErrors(() => parseRelayMessage(value));
			}),
			{numRuns},
		);
	});

	it('a frame opener given valid tokens with garbage inside throws only protocol errors', () => {
		const key = Buffer.alloc(32, 3);
		const fernet = new Fernet(key);
		fc.assert(
			fc.property(fc.oneof(fc.string(), messageLike.map(value => JSON.stringify({v: 1, seq: 0, msgs: value}))), plaintext => {
				onlyProtocolErrors(() => new FrameOpener(key, 1024).open(fernet.encrypt(plaintext)));
				onlyProtocolErrors(() => new FrameOpener(key, 1024).open(plaintext));
			}),
			{numRuns},
		);
	});

	it('the end-to-end payload parser throws only EnvelopeError on any bytes', () => {
		fc.assert(
			fc.property(fc.oneof(fc.uint8Array({maxLength: 200}), messageLike.map(value => Buffer.from(JSON.stringify(value) ?? ''))), bytes => {
				try {
					parsePayload(Buffer.from(bytes));
				} catch (error) {
					if (!(error instanceof EnvelopeError)) throw error;
				}
			}),
			{numRuns},
		);
	});
});
