// A person's client (ChatClient, end to end, files on disk) that carries 5,000 pinned contacts over
// from an older version to a relay of a million users that keeps no contacts for it yet: its first
// login looks them all up; its second finds them in its welcome.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {newContact} from '../dist/client/contact-record.js';
import {serialiseContact} from '../dist/client/contact-json.js';
import {AccountStore} from '../dist/client/store/account-store.js';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../dist/crypto/identity.js';
import {fillRegistry} from './fill-registry.mjs';
import {round} from './measure.mjs';
import {personClient, whenLookupsDone} from './person-client.mjs';
import {startRelayProcess} from './relay-process.mjs';

export async function carriedOverContacts({registered, contacts, limits}) {
	const records = Array.from({length: contacts}, (_, index) => {
		const username = `user${index}`;
		return {username, record: publicIdentity(generateIdentity(), username)};
	});
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-contacts-'));
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-person-'));
	const b64 = ({username, record}) => ({username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)});
	fillRegistry(dataDir, registered, records.map(b64));
	const relay = await startRelayProcess({limits, presence: true, dataDir});
	try {
		// What the older client left (as imported into its database): a conversation (a message
		// sent) with every contact, and no mark of a carry-over.
		const account = AccountStore.open(place, relay.fingerprint, 'person');
		const insert = account.database.prepare('INSERT INTO contacts (name, contact) VALUES (?, ?)');
		account.database.transaction(() => {
			for (const {username, record} of records) insert.run(username, JSON.stringify(serialiseContact({...newContact(record), sendCounter: 1})));
		})();
		account.close();
		const label = `${contacts.toLocaleString('en-US')} contacts carried over`;
		const rows = [];
		for (const which of ['first login', 'second login']) {
			const cpuBefore = await relay.cpu();
			const start = performance.now();
			const {client, welcome} = await personClient(relay, 'person', place);
			const welcomedMs = performance.now() - start;
			const looked = await whenLookupsDone(client);
			const doneMs = performance.now() - start;
			const cpu = (await relay.cpu()) - cpuBefore;
			await client.close();
			rows.push(
				{benchmark: label, metric: `${which}: welcome`, value: round(welcomedMs, 1), unit: 'ms', note: `${welcome.users.length} contacts in the sidebar at the welcome (the client's own), on a relay of ${registered.toLocaleString('en-US')} users`},
				{benchmark: label, metric: `${which}: contacts known`, value: round(doneMs, 1), unit: 'ms', note: `${looked} names looked up, every answer checked and pinned; relay ${round(cpu / 1000, 1)} ms CPU in all`},
			);
		}
		return rows;
	} finally {
		await relay.stop();
		rmSync(dataDir, {recursive: true, force: true});
		rmSync(place, {recursive: true, force: true});
	}
}
