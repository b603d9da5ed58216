import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureConfig = join(root, 'test', 'fixtures', 'postgres-helper', 'vitest.config.ts');

/**
 * Runs describe-postgres.fixture.ts (one describePostgres block) in a vitest of its own with only
 * the given PostgreSQL and CI variables: none of this run's (vitest's own included) leak in.
 */
async function runFixture(env: {IM_TUI_TEST_POSTGRES?: string; IM_TUI_REAL_CI?: string}) {
	const inherited = Object.fromEntries(
		Object.entries(process.env).filter(([name]) => !/^(IM_TUI_TEST_POSTGRES|IM_TUI_REAL_CI|CI|VITEST.*)$/.test(name)),
	);
	const child = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', fixtureConfig, '--reporter=verbose'], {
		cwd: root,
		env: {...inherited, ...env, NO_COLOR: '1'},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
	const code = await new Promise<number | null>(resolve => child.on('exit', resolve));
	clearTimeout(timer);
	return {code, output};
}

describe('describePostgres, the guard on every test that needs PostgreSQL', () => {
	it('fails the run under CI when IM_TUI_TEST_POSTGRES is missing, naming the variable', async () => {
		const {code, output} = await runFixture({IM_TUI_REAL_CI: 'true'});
		expect(code, output).toBe(1);
		expect(output).toContain('CI=true and no PostgreSQL: set IM_TUI_TEST_POSTGRES=');
		expect(output).toMatch(/Tests\s+1 failed \(1\)/);
	});

	it('skips the block outside CI, its title saying why', async () => {
		const {code, output} = await runFixture({});
		expect(code, output).toBe(0);
		expect(output).toContain('a block that needs PostgreSQL (skipped: no PostgreSQL: set IM_TUI_TEST_POSTGRES=');
		expect(output).toMatch(/Tests\s+1 skipped \(1\)/);
	});

	it('runs the block when IM_TUI_TEST_POSTGRES names a server', async () => {
		// The fixture's test connects to nothing: only the guard is under test here.
		const {code, output} = await runFixture({IM_TUI_TEST_POSTGRES: 'postgres://postgres@127.0.0.1:1/postgres', IM_TUI_REAL_CI: 'true'});
		expect(code, output).toBe(0);
		expect(output).toMatch(/Tests\s+1 passed \(1\)/);
		expect(output).not.toContain('skipped');
	});
});
