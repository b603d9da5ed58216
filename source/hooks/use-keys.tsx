import {StringDecoder} from 'node:string_decoder';
import React, {createContext, useContext, useEffect, useRef, type ReactNode} from 'react';
import {useStdin} from 'ink';
import {KeyDecoder} from '../terminal/key-decoder.js';
import type {Key} from '../terminal/keys.js';

type Listener = (key: Key) => void;

type Keyboard = {
	subscribe(listener: Listener): () => void;
	/** Hears of a key handler that threw (a bug of ours): the key is dropped and the client goes on. */
	onError(listener: (error: unknown) => void): () => void;
};

const KeyboardContext = createContext<Keyboard | undefined>(undefined);

/** An escape sequence cut off this long is taken as it stands (a lone ESC is the Escape key). */
export const escapeTimeoutMs = 50;
/** A paste whose end marker never came ends after this much silence. */
export const pasteTimeoutMs = 1000;

type ProviderProps = {children: ReactNode};

/**
 * The keyboard: the one reader of the terminal's input. It puts the terminal in raw mode, decodes
 * what arrives (keys, bracketed pastes, the mouse wheel; see key-decoder.ts) and hands each key,
 * in order, to every active useKeys handler. Ink's own input handling is never used: it ends the
 * process on some escape sequences.
 */
export function KeyboardProvider({children}: ProviderProps) {
	const {stdin} = useStdin();
	const listeners = useRef(new Set<Listener>());
	const errors = useRef(new Set<(error: unknown) => void>());
	const keyboard = useRef<Keyboard>({
		subscribe(listener) {
			listeners.current.add(listener);
			return () => {
				listeners.current.delete(listener);
			};
		},
		onError(listener) {
			errors.current.add(listener);
			return () => {
				errors.current.delete(listener);
			};
		},
	});

	useEffect(() => {
		const decoder = new KeyDecoder();
		const utf8 = new StringDecoder('utf8');
		let escapeTimer: NodeJS.Timeout | undefined;
		let pasteTimer: NodeJS.Timeout | undefined;
		const emit = (keys: Key[]) => {
			for (const key of keys) {
				for (const listener of [...listeners.current]) {
					try {
						listener(key);
					} catch (error) {
						for (const report of errors.current) report(error);
					}
				}
			}
		};

		const onData = (chunk: Buffer | string) => {
			clearTimeout(escapeTimer);
			clearTimeout(pasteTimer);
			emit(decoder.push(typeof chunk === 'string' ? chunk : utf8.write(chunk)));
			if (decoder.pendingEscape) {
				escapeTimer = setTimeout(() => {
					emit(decoder.flushPending());
				}, escapeTimeoutMs);
			}

			if (decoder.inPaste) {
				pasteTimer = setTimeout(() => {
					emit(decoder.endPaste());
				}, pasteTimeoutMs);
			}
		};

		if (stdin.isTTY) stdin.setRawMode(true);
		stdin.on('data', onData);
		stdin.resume();
		return () => {
			clearTimeout(escapeTimer);
			clearTimeout(pasteTimer);
			stdin.off('data', onData);
			if (stdin.isTTY) stdin.setRawMode(false);
			stdin.pause();
		};
	}, [stdin]);

	return <KeyboardContext.Provider value={keyboard.current}>{children}</KeyboardContext.Provider>;
}

/**
 * Calls `handler` with every key while `active`. The latest handler is used, so it may close over
 * the latest render's values.
 */
export function useKeys(handler: (key: Key) => void, {active = true}: {active?: boolean} = {}): void {
	const keyboard = useContext(KeyboardContext);
	if (keyboard === undefined) throw new Error('useKeys must be used inside a KeyboardProvider');
	const latest = useRef(handler);
	latest.current = handler;
	useEffect(() => {
		if (!active) return;
		return keyboard.subscribe(key => {
			latest.current(key);
		});
	}, [keyboard, active]);
}

/** Calls `report` when a key handler throws: the key was dropped, and the person should hear of it. */
export function useKeyErrors(report: (error: unknown) => void): void {
	const keyboard = useContext(KeyboardContext);
	if (keyboard === undefined) throw new Error('useKeyErrors must be used inside a KeyboardProvider');
	const latest = useRef(report);
	latest.current = report;
	useEffect(
		() =>
			keyboard.onError(error => {
				latest.current(error);
			}),
		[keyboard],
	);
}
