/** What a thrown value says, for a line on screen: an Error's message, anything else as text. */
export function errorText(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
