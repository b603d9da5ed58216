/** Structured log lines (one JSON object per line). Callers pass routing facts only: never keys or message text. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type Logger = (event: string, fields?: LogFields) => void;

export function jsonLineLogger(write: (line: string) => void, clock: () => number = Date.now): Logger {
	return (event, fields = {}) => {
		write(JSON.stringify({time: new Date(clock()).toISOString(), event, ...fields}) + '\n');
	};
}

export const silentLogger: Logger = () => {};
