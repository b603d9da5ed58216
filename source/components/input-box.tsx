import React from 'react';
import {everyone, statusView, type ConversationKey} from '../hooks/chat-state/types.js';
import {conversationName} from '../hooks/chat-state/room-keys.js';
import type {RoomStatus} from '../hooks/rooms/room-api.js';
import {safeName} from '../sanitize.js';
import type {EditorState} from './line-editor/editor-state.js';
import {LineEditorView} from './line-editor/line-editor-view.js';
import type {ColorName} from './theme.js';

export type Prompt = {text: string; color: ColorName};

/** Who Enter sends to, said before the input: the words carry it, the colour only repeats it. `room`: where I stand in the room `to` names. */
export function inputPrompt(to: ConversationKey | undefined, offline: boolean, keyChanged: boolean, room?: RoomStatus): Prompt {
	if (to === undefined) return {text: 'nobody selected>', color: 'gray'};
	if (to === statusView) return {text: 'status>', color: 'gray'};
	if (to === everyone) return {text: 'to # everyone>', color: 'cyan'};
	if (room !== undefined) return roomPrompt(conversationName(to), room);
	if (keyChanged) return {text: `to ${safeName(to)} (key changed)>`, color: 'red'};
	return {text: `to ${safeName(to)}${offline ? ' (offline)' : ''}>`, color: 'cyan'};
}

function roomPrompt(name: string, room: RoomStatus): Prompt {
	switch (room) {
		case 'member': {
			return {text: `to ${name}>`, color: 'cyan'};
		}

		case 'stalled': {
			return {text: `to ${name} (stalled)>`, color: 'red'};
		}

		case 'invited': {
			return {text: `${name} (invited: /accept or /decline)>`, color: 'yellow'};
		}

		case 'left':
		case 'removed': {
			return {text: `${name} (not a member)>`, color: 'gray'};
		}
	}
}

type Props = {
	prompt: Prompt;
	state: Pick<EditorState, 'value' | 'cursor'>;
	selected: ConversationKey | undefined;
	width: number;
	maxRows: number;
};

export function InputBox({prompt, state, selected, width, maxRows}: Props) {
	const placeholder =
		selected === undefined ? 'press Up/Down to choose someone' : selected === statusView ? 'the status view: Up/Down choose who to write to' : undefined;
	return <LineEditorView state={state} prompt={prompt} placeholder={placeholder} width={width} maxRows={maxRows} />;
}
