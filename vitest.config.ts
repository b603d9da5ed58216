import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		// Ink renders only the final frame when it believes it runs in CI; the UI tests
		// must see every frame whether or not CI=true is set around them.
		env: {CI: 'false', IM_TUI_REAL_CI: process.env.CI ?? ''},
		testTimeout: 20_000,
		hookTimeout: 20_000,
	},
});
