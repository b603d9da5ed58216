import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import ts from 'typescript';

const sourceRoot = resolve(import.meta.dirname, '../../source');
const nodeModules = resolve(import.meta.dirname, '../../node_modules');

/**
 * For tests that run our code in real child processes (Node 20 cannot run TypeScript): transpiles
 * `entries` (paths under source/) and everything they import, relatively, to plain JavaScript
 * modules under `outDir`, keeping the layout, so a script there can import './client/chat-client.js'.
 * The packages they import (the SQLite addon) are found through a link to the project's node_modules.
 */
export function transpile(entries: string[], outDir: string): void {
	const pending = entries.map(entry => join(sourceRoot, entry));
	const done = new Set<string>();
	while (pending.length > 0) {
		const file = pending.pop()!;
		if (done.has(file)) continue;
		done.add(file);
		const source = readFileSync(file, 'utf8');
		for (const [, specifier] of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
			pending.push(resolve(dirname(file), `${specifier!}.ts`));
		}
		const output = ts.transpileModule(source, {compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022}});
		const target = join(outDir, relative(sourceRoot, file)).replace(/\.ts$/, '.js');
		mkdirSync(dirname(target), {recursive: true});
		writeFileSync(target, output.outputText);
	}
	writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
	if (!existsSync(join(outDir, 'node_modules'))) symlinkSync(nodeModules, join(outDir, 'node_modules'), 'dir');
}
