// Stands in for react-devtools-core in the bundled client (scripts/bundle-client.mjs): Ink imports
// it only when DEV=true, which the client never sets.
export default {connectToDevTools() {}, initialize() {}};
