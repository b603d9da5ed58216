import {describe, expect, test} from 'vitest';
import {parseCommand} from '../../source/components/commands.js';

describe('room commands', () => {
	test.each([
		['/create #dev', {name: 'create', room: 'dev', topic: ''}],
		['/create Dev', {name: 'create', room: 'dev', topic: ''}],
		['/create #Dev  the  build, and  #ops ', {name: 'create', room: 'dev', topic: 'the  build, and  #ops'}],
		['/invite bob', {name: 'invite', room: undefined, target: 'bob'}],
		['/invite #dev Bob', {name: 'invite', room: 'dev', target: 'bob'}],
		['/kick carol', {name: 'kick', room: undefined, target: 'carol'}],
		['/kick #dev carol', {name: 'kick', room: 'dev', target: 'carol'}],
		['/admin carol', {name: 'admin', room: undefined, target: 'carol'}],
		['/accept #dev', {name: 'accept', room: 'dev'}],
		['/accept dev', {name: 'accept', room: 'dev'}],
		['/accept', {name: 'accept', room: undefined}],
		['/decline #DEV', {name: 'decline', room: 'dev'}],
		['/leave', {name: 'leave', room: undefined}],
		['/leave #dev', {name: 'leave', room: 'dev'}],
		['/members', {name: 'members', room: undefined}],
		['/rekey #dev', {name: 'rekey', room: 'dev'}],
		['/topic  #1 priority: ship it ', {name: 'topic', room: undefined, topic: '#1 priority: ship it'}],
	])('%j', (line, command) => {
		expect(parseCommand(line)).toEqual({ok: true, command});
	});

	test.each([
		['/create', 'Usage: /create #ROOM [topic].'],
		['/create #everyone', '/create #ROOM [topic]: #everyone is everyone online, not a room.'],
		['/create #b@d', '/create #ROOM [topic]: "#b@d" is not a room name (# and 1 to 32 of a-z, 0-9, _ and -).'],
		['/create #' + 'a'.repeat(33), `/create #ROOM [topic]: "#${'a'.repeat(33)}" is not a room name (# and 1 to 32 of a-z, 0-9, _ and -).`],
		['/invite', 'Usage: /invite [#ROOM] NAME.'],
		['/invite dev bob', '/invite [#ROOM] NAME: "dev" is not a room name (# and 1 to 32 of a-z, 0-9, _ and -).'],
		['/invite #dev bob carol', 'Usage: /invite [#ROOM] NAME.'],
		['/invite #dev b@d', '/invite [#ROOM] NAME: "b@d" is not a username (1 to 32 of a-z, 0-9, _ and -).'],
		['/kick system', '/kick [#ROOM] NAME: "system" is reserved, nobody has it.'],
		['/leave #dev #ops', 'Usage: /leave [#ROOM].'],
		['/accept #', '/accept [#ROOM]: "#" is not a room name (# and 1 to 32 of a-z, 0-9, _ and -).'],
		['/topic', 'Usage: /topic TEXT.'],
		['/topic    ', 'Usage: /topic TEXT.'],
	])('%j is refused with a sentence', (line, error) => {
		expect(parseCommand(line)).toEqual({ok: false, error});
	});

	test('/forget takes a #room', () => {
		expect(parseCommand('/forget #Dev')).toEqual({ok: true, command: {name: 'forget', target: '#dev'}});
		expect(parseCommand('/forget #b@d')).toMatchObject({ok: false});
	});
});
