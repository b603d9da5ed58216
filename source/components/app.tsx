import React, {useEffect, useRef, useState} from 'react';
import {Box, useApp} from 'ink';
import {useChat} from '../hooks/use-chat.js';
import {KeyboardProvider, useKeyErrors, useKeys} from '../hooks/use-keys.js';
import {useTerminalSize} from '../hooks/use-terminal-size.js';
import {ChatClient} from '../client/chat-client.js';
import type {ChatConnection, ClientOptions} from '../client/client-events.js';
import type {Retention} from '../client/history.js';
import {relayAddress} from '../client/known-relays.js';
import {ChatScreen} from './chat-screen.js';
import {ConnectForm, type ConnectValues} from './connect-form.js';
import {PassphrasePrompt} from './passphrase/passphrase-prompt.js';
import {RelayChanged, TrustPrompt} from './trust-prompt.js';
import {statusView} from '../hooks/chat-state/types.js';
import {isKey} from '../terminal/keys.js';
import {ColorProvider} from './theme.js';
import {VerifyView} from './verify-view.js';

export type AppProps = {
	host?: string;
	port?: number;
	username?: string;
	trustFingerprint?: string;
	knownRelaysPath: string;
	/** Where the client keeps identities, contact pins and counters (ClientOptions.dataDir). */
	dataDir: string;
	/**
	 * The passphrase that encrypts the account on this device, given ahead (--passphrase-file,
	 * IM_TUI_PASSPHRASE): nothing is asked. Without it, a first start asks whether to choose one,
	 * and an encrypted account asks for its own.
	 */
	passphrase?: string;
	/** How long messages are kept on this device (ClientOptions.retention). */
	retention?: Retention;
	createConnection?: (options: ClientOptions) => ChatConnection;
	/** False under NO_COLOR or --no-color: no colour escape is drawn. */
	color?: boolean;
	/** False with --bell off: no bell when a message arrives in a conversation not on screen. */
	bell?: boolean;
};

/** Why a client that never logged in ends the program (ChatClient's 'closed' codes). */
const exitCodes: ReadonlySet<string> = new Set(['refused_relay', 'unsupported_version']);

/** How long quitting waits for the relay to hear "bye" before leaving anyway. */
const closeTimeoutMs = 2000;

export function App({color = true, ...props}: AppProps) {
	return (
		<ColorProvider enabled={color}>
			<KeyboardProvider>
				<Screen {...props} />
			</KeyboardProvider>
		</ColorProvider>
	);
}

function Screen({
	host,
	port,
	username,
	trustFingerprint,
	knownRelaysPath,
	dataDir,
	passphrase,
	retention,
	createConnection = options => new ChatClient(options),
	bell = true,
}: Omit<AppProps, 'color'>) {
	const {exit} = useApp();
	const {columns, rows} = useTerminalSize();
	const open = (values: ConnectValues) => ({
		connection: createConnection({host: values.host, port: values.port, knownRelaysPath, dataDir, trustFingerprint, passphrase, retention}),
		username: values.username,
	});
	// Creating a connection does not connect it: Session does, once it listens to it.
	const [session, setSession] = useState(() =>
		host !== undefined && port !== undefined && username !== undefined ? open({host, port, username}) : undefined,
	);

	useKeys(
		key => {
			if (isKey(key, 'c', {ctrl: true})) exit();
		},
		{active: session === undefined},
	);

	const start = (values: ConnectValues) => {
		setSession(open(values));
	};

	// The frame stays one row short of the terminal so Ink never scrolls it. Not clipped here: Ink
	// slices every line written inside a clip, a third of a frame's cost, and the chat screen sizes
	// every row itself; the other screens clip their own box (Clipped).
	const height = Math.max(rows - 1, 1);
	return (
		<Box flexDirection="column" width={columns} height={height}>
			{session ? (
				<Session
					connection={session.connection}
					username={session.username}
					knownRelaysPath={knownRelaysPath}
					width={columns}
					height={height}
					bell={bell}
					passphraseGiven={passphrase !== undefined}
				/>
			) : (
				<Clipped>
					<ConnectForm host={host} port={port} username={username} onSubmit={start} />
				</Clipped>
			)}
		</Box>
	);
}

/** A screen of free-flowing text, cut at the terminal's edges on a small terminal. */
function Clipped({children}: {children: React.ReactNode}) {
	return (
		<Box flexDirection="column" flexGrow={1} overflow="hidden">
			{children}
		</Box>
	);
}

type SessionProps = {
	connection: ChatConnection;
	username: string;
	knownRelaysPath: string;
	width: number;
	height: number;
	bell: boolean;
	passphraseGiven: boolean;
};

async function closeWithin(connection: ChatConnection, timeoutMs: number): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<void>(resolve => {
		timer = setTimeout(resolve, timeoutMs);
	});
	try {
		await Promise.race([connection.close().catch(() => undefined), timeout]);
	} finally {
		clearTimeout(timer);
	}
}

function Session({connection, username, knownRelaysPath, width, height, bell, passphraseGiven}: SessionProps) {
	const {exit} = useApp();
	const {state, actions} = useChat(connection, {username, passphraseGiven});
	// /passphrase: its screen is up.
	const [changingPassphrase, setChangingPassphrase] = useState(false);
	const quitting = useRef(false);
	useKeyErrors(error => {
		actions.note(`A key could not be handled and was dropped: ${error instanceof Error ? error.message : String(error)}`, 'error', statusView);
	});

	useEffect(() => {
		connection.connect();
		return () => {
			void connection.close().catch(() => undefined);
		};
	}, [connection]);

	// A relay refused before anyone is logged in (its fingerprint does not match --trust, or its
	// signed hello speaks another protocol version) leaves nothing to do on this screen: exit with
	// the reason, as scripts expect.
	const refusal =
		state.closed !== undefined && exitCodes.has(state.closed.code) && state.me === undefined && !state.keyChanged ? state.closed.message : undefined;
	useEffect(() => {
		if (refusal !== undefined) exit(new Error(refusal));
	}, [refusal, exit]);

	// Leaving while the client was still trying to get in after a failure is leaving after an error:
	// exit 1, with the reason. Taken from the 'closed' event itself, not from a render.
	const quit = () => {
		if (quitting.current) return;
		quitting.current = true;
		let lastError: {code: string; message: string} | undefined;
		const onClosed = (reason: {lastError?: {code: string; message: string}}) => {
			lastError = reason.lastError;
		};

		connection.on('closed', onClosed);
		void closeWithin(connection, closeTimeoutMs).then(() => {
			connection.off('closed', onClosed);
			if (lastError === undefined) exit();
			else exit(new Error(`${lastError.message}; you left before ${lastError.code === 'connect_failed' ? 'the relay could be reached' : 'logging in'}`));
		});
	};

	useKeys(
		key => {
			if (isKey(key, 'c', {ctrl: true})) quit();
		},
		{active: state.keyChanged === undefined},
	);

	if (state.keyChanged) {
		const {relay, pinnedFingerprint} = state.keyChanged;
		const onExit = () => {
			exit(new Error(`The key of the relay at ${relayAddress(relay.host, relay.port)} changed; refusing to connect. See ${knownRelaysPath}.`));
		};

		return (
			<Clipped>
				<RelayChanged relay={relay} pinnedFingerprint={pinnedFingerprint} knownRelaysPath={knownRelaysPath} onExit={onExit} />
			</Clipped>
		);
	}

	if (state.verify) {
		const relay = state.verify;
		const onDecide = (trust: boolean) => {
			actions.trustRelay(trust);
			if (!trust) exit(new Error(`You did not trust the relay at ${relayAddress(relay.host, relay.port)}; nothing was sent.`));
		};

		return (
			<Clipped>
				<TrustPrompt relay={relay} onDecide={onDecide} />
			</Clipped>
		);
	}

	// The name prompt stays while the client is between connections (the relay stops waiting for a
	// name after a while): what was typed stays, and a name entered meanwhile goes out once it is back.
	const between = state.status === 'reconnecting' || state.status === 'connecting';
	const ask = state.login.passphrase;
	if (ask !== undefined && state.me === undefined) {
		const offline = between && state.reconnect !== undefined ? 'Not connected to the relay: trying again by itself; you are logged in once it is back.' : undefined;
		return (
			<Clipped>
				<PassphrasePrompt
					key={`${ask.username} ${ask.mode}`}
					mode={ask.mode}
					username={ask.username}
					error={ask.error}
					note={offline}
					onDone={passphrase => {
						actions.loginWithPassphrase(ask.username, passphrase);
					}}
					onCancel={actions.cancelPassphrase}
				/>
			</Clipped>
		);
	}

	if (state.login.requested && state.login.pending === undefined && state.me === undefined && (state.status === 'login' || between)) {
		const {host, port} = state.relay ?? {host: '?', port: 0};
		const offline = between && state.reconnect !== undefined ? 'Not connected to the relay: trying again by itself; the name you enter goes out once it is back.' : undefined;
		return (
			<Clipped>
				<ConnectForm host={host} port={port} error={state.login.error} note={offline} onSubmit={values => actions.login(values.username)} />
			</Clipped>
		);
	}

	if (state.verification && state.me !== undefined) {
		return (
			<Clipped>
				<VerifyView verification={state.verification} me={state.me} onConfirm={actions.confirmVerification} onBack={actions.closeVerification} />
			</Clipped>
		);
	}

	if (changingPassphrase && state.me !== undefined) {
		const done = (passphrase: string | undefined) => {
			setChangingPassphrase(false);
			actions.setPassphrase(passphrase);
		};

		const cancel = () => {
			setChangingPassphrase(false);
			actions.note('The passphrase was not changed.');
		};

		return (
			<Clipped>
				<PassphrasePrompt mode="change" username={state.me} onDone={done} onCancel={cancel} />
			</Clipped>
		);
	}

	const changePassphrase = () => {
		setChangingPassphrase(true);
	};

	return <ChatScreen state={state} actions={actions} width={width} height={height} onQuit={quit} bell={bell} onPassphrase={changePassphrase} />;
}
