// The client as one file (dist/im-tui.js), the program the im-tui bin runs: Node 20 spends about
// 400 ms loading Ink's dependency tree module by module (es-toolkit/compat alone is 250 ms), and
// one bundled file, with React's production build, starts in half the time (BENCHMARKS.md).
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const here = path => fileURLToPath(new URL(path, import.meta.url));

await build({
	entryPoints: [here('../dist/cli.js')],
	outfile: here('../dist/im-tui.js'),
	bundle: true,
	minify: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	define: {'process.env.NODE_ENV': '"production"'},
	// Bundled CommonJS modules (react, yoga's loader) call require for Node's own modules.
	banner: {js: "import {createRequire as imTuiCreateRequire} from 'node:module'; const require = imTuiCreateRequire(import.meta.url);"},
	// Ink loads React's devtools only when DEV=true; the client never does, so it is not shipped.
	alias: {'react-devtools-core': here('./devtools-stub.js')},
	// The SQLite addon is found next to its package at run time, so it stays a package of its own.
	external: ['better-sqlite3-multiple-ciphers'],
	logLevel: 'warning',
});
