import React, {type ReactElement} from 'react';
import {render} from 'ink-testing-library';
import {KeyboardProvider} from '../../source/hooks/use-keys.js';

/** ink-testing-library's render, inside the keyboard the App provides, for components that take keys. */
export function renderWithKeys(tree: ReactElement) {
	return render(<KeyboardProvider>{tree}</KeyboardProvider>);
}
