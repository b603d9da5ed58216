import fc from 'fast-check';

/** JSON-ish values that look like protocol messages: right field names, wrong everything else. */
export const fieldNames = ['type', 'username', 'identity', 'x25519', 'binding', 'proof', 'id', 'to', 'kind', 'ephemeral', 'body', 'deliveries', 'nonce', 'users', 'motd', 'more', 'delivery', 'from', 'time', 'code', 'message', 'fatal', 'ref', 'text', 'reason', 'user', 'ratchet', 'signed', 'oneTime', 'signature', 'key', 'prekeys'];
export const typeNames = ['login', 'send', 'ack', 'bye', 'ping', 'pong', 'login_request', 'welcome', 'directory', 'user_joined', 'user_left', 'message', 'accepted', 'announcement', 'shutdown', 'error', 'prekeys', 'prekey_count', 'get_bundle', 'bundle', '__proto__', 'constructor'];
export const hostileValue = fc.oneof(
	fc.jsonValue({maxDepth: 3}),
	fc.constantFrom(...typeNames),
	fc.constant('A'.repeat(43)),
	fc.constant('A'.repeat(86)),
	fc.constantFrom('A'.repeat(99), 'A'.repeat(104), 'A'.repeat(110)),
	fc.constant({id: 1, key: 'A'.repeat(43), signature: 'A'.repeat(86)}),
	fc.constant([{id: 1, key: 'A'.repeat(43)}]),
	fc.integer(),
	fc.double(),
	fc.constant(Number.MAX_SAFE_INTEGER + 1),
);
export const messageLike = fc.oneof(
	fc
		.tuple(fc.constantFrom(...typeNames), fc.dictionary(fc.constantFrom(...fieldNames), hostileValue, {maxKeys: 8}))
		.map(([type, fields]) => ({type, ...fields})),
	fc.jsonValue({maxDepth: 4}),
);
