import React, {createContext, useContext, type ReactNode} from 'react';

/** The colours the UI uses. Every kind of line also reads without them (markers, glyphs, words). */
export type ColorName = 'cyan' | 'green' | 'yellow' | 'red' | 'magenta' | 'gray';

export type Paint = (color: ColorName | undefined) => ColorName | undefined;

const ColorContext = createContext(true);

const colors: Paint = color => color;
const noColors: Paint = () => undefined;

/** `enabled` false (NO_COLOR, --no-color): no colour escape reaches the terminal; bold, dim and inverse stay. */
export function ColorProvider({enabled, children}: {enabled: boolean; children: ReactNode}) {
	return <ColorContext.Provider value={enabled}>{children}</ColorContext.Provider>;
}

/** Maps a colour name to what the terminal gets: the name, or nothing when colours are off. */
export function usePaint(): Paint {
	return useContext(ColorContext) ? colors : noColors;
}
