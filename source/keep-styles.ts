import process from 'node:process';

/**
 * Imported first by cli.tsx, before Ink loads chalk. chalk reads --no-color from process.argv
 * itself and then draws no style at all, not even the inverse cell that is the input's cursor.
 * Colours are left out by our own theme (components/theme.tsx); chalk is told to keep the styles.
 */
const noColorFlags = new Set(['--no-color', '--color=false', '--color=never']);
if (process.argv.slice(2).some(argument => noColorFlags.has(argument)) && !('FORCE_COLOR' in process.env)) {
	process.env.FORCE_COLOR = '1';
}
