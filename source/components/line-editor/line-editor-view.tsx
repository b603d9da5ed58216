import React from 'react';
import {Box, Text} from 'ink';
import {widthOf} from '../../terminal/cells.js';
import {usePaint, type ColorName} from '../theme.js';
import {editorRows} from './editor-layout.js';
import type {EditorState} from './editor-state.js';

type Props = {
	state: Pick<EditorState, 'value' | 'cursor'>;
	prompt: {text: string; color?: ColorName};
	placeholder?: string;
	width: number;
	/** Rows the input may grow to before it scrolls (the cursor's row always shows). */
	maxRows: number;
};

/** How many rows the input takes for this text: what the screen leaves it. */
export function editorHeight(state: Pick<EditorState, 'value' | 'cursor'>, promptText: string, width: number, maxRows: number): number {
	return editorRows(state.value, state.cursor, width - widthOf(promptText) - 1, width, maxRows).rows.length;
}

/** The prompt, then the text, wrapped, with the cursor drawn as an inverse cell. */
export function LineEditorView({state, prompt, placeholder, width, maxRows}: Props) {
	const paint = usePaint();
	const promptWidth = widthOf(prompt.text) + 1;
	const {rows} = editorRows(state.value, state.cursor, width - promptWidth, width, maxRows);
	const label = (
		<Text bold color={paint(prompt.color)}>
			{`${prompt.text} `}
		</Text>
	);
	if (state.value === '' && placeholder) {
		return (
			<Box width={width} height={1} flexShrink={0}>
				<Text wrap="truncate-end">
					{label}
					<Text inverse> </Text>
					<Text dimColor>{placeholder}</Text>
				</Text>
			</Box>
		);
	}

	return (
		<Box flexDirection="column" width={width} height={rows.length} flexShrink={0}>
			{rows.map((row, index) => (
				// Rows have no identity of their own; they are redrawn whole.
				// eslint-disable-next-line react/no-array-index-key
				<Text key={index} wrap="truncate-end">
					{index === 0 ? label : null}
					{row.before}
					{row.cursor === undefined ? null : <Text inverse>{row.cursor}</Text>}
					{row.after}
				</Text>
			))}
		</Box>
	);
}
