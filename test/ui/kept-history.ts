import type {History} from '../../source/client/history.js';

/** The start of the day these tests' kept messages were written on (a fixed past day, so their dates show). */
export const keptDay = new Date(2024, 2, 3, 9, 0).getTime();

/**
 * Fills `kept` with `count` messages with `name`, oldest first, alternately from them and from `me`,
 * a minute apart: "old 1" … "old N". Returns their ids in order.
 */
export function keepConversation(kept: History, name: string, me: string, count: number, start = keptDay): string[] {
	const ids: string[] = [];
	for (let index = 1; index <= count; index++) {
		const time = start + index * 60_000;
		const id = `${name}-kept-${index}`;
		ids.push(id);
		if (index % 2 === 1) kept.received({id, from: name, to: me, kind: 'direct', text: `old ${index}`, time, sent: time});
		else kept.sent({id, author: me, to: name, recipients: [name], text: `old ${index}`, time});
	}

	return ids;
}
