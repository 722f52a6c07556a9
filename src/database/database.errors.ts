/**
 * The database cannot be started or used as it is. Not an HTTP error: it stops startup (and CLI
 * commands), and its message is the one line to print, saying what is wrong and what to do.
 */
export class DatabaseStartError extends Error {}
