/** Durations in milliseconds, and date arithmetic on the business clock's dates (never a bare 86_400_000). */
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export const addSeconds = (d: Date, seconds: number): Date => new Date(d.getTime() + seconds * SECOND_MS);
export const addHours = (d: Date, hours: number): Date => new Date(d.getTime() + hours * HOUR_MS);
export const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * DAY_MS);
/** Whole seconds from `now` until `at`, rounded up (0 once it has passed). */
export const secondsUntil = (at: Date, now: Date): number => Math.max(0, Math.ceil((at.getTime() - now.getTime()) / SECOND_MS));
