/** Code-point order of strings (what `ORDER BY ... COLLATE "C"` and lock ordering use), not locale order. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts a copy of `items` by a text key, in code-point order. */
export const sortedBy = <T>(items: readonly T[], key: (item: T) => string): T[] => [...items].sort((a, b) => compareText(key(a), key(b)));
