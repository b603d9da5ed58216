import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import type {FakePrekeys} from './fake-prekeys.js';
import {fakeRelay, type FakeRelay, type FakeSession} from './fake-relay.js';

export type SentMessage = {type: string; [field: string]: unknown};

/** One connection of a scripted relay: what the client sent, and a way to answer. */
export type ScriptedSession = FakeSession & {
	/** Every message the client sent on this connection, in order (the login included). */
	messages: () => SentMessage[];
	reply: (...messages: object[]) => void;
};

export type Script = {
	/** The welcome's fields besides username (users, online, onlineCount, waiting; motd null). */
	welcome?: (username: string, session: ScriptedSession, index: number) => object;
	/** Called for each message after the login, in order. */
	onMessage?: (message: SentMessage, session: ScriptedSession) => void;
	/** Called right after the welcome went out. */
	afterWelcome?: (session: ScriptedSession, index: number) => void;
	/** Answers `prekeys` and `get_bundle` (before onMessage sees them too), as a relay of version 3 does. */
	prekeys?: FakePrekeys;
};

/** A user's public record as a relay serves it. */
export function userRecord(username: string, keys: IdentityKeys = generateIdentity(), online = true) {
	const record = publicIdentity(keys, username);
	return {username, online, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)};
}

/**
 * A relay that asks for a name, welcomes whoever logs in (the script chooses the welcome), then
 * hands every later message to the script: a relay that answers lookups before the real one does.
 */
export async function scriptedRelay(script: Script = {}): Promise<FakeRelay & {scripted: ScriptedSession[]}> {
	const scripted: ScriptedSession[] = [];
	const relay = await fakeRelay(session => {
		const index = scripted.length;
		const reply = (...messages: object[]) => {
			if (!session.socket.destroyed) session.socket.write(session.sealer.seal(messages) + '\n');
		};
		const own: ScriptedSession = {...session, messages: () => session.sent() as SentMessage[], reply};
		scripted.push(own);
		let handled = 0;
		let username = '';
		session.socket.on('data', () => {
			// fake-relay's own listener has taken the bytes already (it was added first)
			const messages = own.messages();
			for (; handled < messages.length; handled++) {
				const message = messages[handled]!;
				if (message.type === 'login') {
					username = String(message.username).toLowerCase();
					reply({type: 'welcome', username, users: [], motd: null, online: [], onlineCount: 1, waiting: 0, ...script.welcome?.(username, own, index)});
					script.afterWelcome?.(own, index);
				} else {
					const answer = script.prekeys?.answer(username, message);
					if (answer !== undefined) reply(answer);
					script.onMessage?.(message, own);
				}
			}
		});
		reply({type: 'login_request'});
	});
	return {...relay, scripted};
}

/** The messages of `type` the client sent on a session. */
export function sentOf(session: ScriptedSession, type: string): SentMessage[] {
	return session.messages().filter(message => message.type === type);
}
