import React, {useRef} from 'react';
import TextInput from 'ink-text-input';

type Props = {
	value: string;
	placeholder?: string;
	/** Input that would make the value longer is ignored. */
	maxLength?: number;
	onChange: (value: string) => void;
	/** Return false to refuse the line: it then stays in the input. */
	onSubmit: (value: string) => boolean | void;
};

const lineBreak = /\r\n|\r|\n/;

/**
 * ink-text-input, fixed for input that arrives faster than a person types. Ink hands over a read
 * such as "bob\r" (fast typing, a paste, keys sent by tmux) as one input, which TextInput would
 * insert, carriage return and all. Each complete line is submitted instead, in order, and what
 * follows the last line break stays in the input. The latest value and handlers live in refs
 * because a key can reach the input handler of an earlier render, whose closures are stale.
 */
export function LineInput({value, placeholder, maxLength = Infinity, onChange: changed, onSubmit: submitted}: Props) {
	const latest = useRef(value);
	latest.current = value;
	const handlers = useRef({changed, submitted});
	handlers.current = {changed, submitted};
	const onChange = (text: string) => handlers.current.changed(text);
	const onSubmit = (text: string) => handlers.current.submitted(text);

	const change = (next: string) => {
		if (!lineBreak.test(next)) {
			if (next.length > maxLength) return;
			latest.current = next;
			onChange(next);
			return;
		}
		const lines = next.split(lineBreak);
		let rest = lines.pop() ?? '';
		for (const [index, line] of lines.entries()) {
			if (onSubmit(line) === false) {
				rest = [line, ...lines.slice(index + 1), rest].filter(part => part !== '').join(' ');
				break;
			}
		}
		rest = rest.slice(0, maxLength);
		latest.current = rest;
		onChange(rest);
	};

	return <TextInput value={value} placeholder={placeholder} onChange={change} onSubmit={() => onSubmit(latest.current)} />;
}
