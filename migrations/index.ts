import { Foundation1763900000000 } from './1763900000000-Foundation';

/** Every migration, in order. Add new ones at the end (TypeORM runs them by timestamp). */
export const allMigrations = [Foundation1763900000000];
