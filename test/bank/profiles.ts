/**
 * The bank test's sizes: `short` runs inside `npm test` (a couple of minutes on a loaded 2-core
 * machine), `long` for the README (`npm run test:bank -- long`).
 */
export interface Profile {
  name: string;
  nodes: number;
  /** Concurrent clients, each a buyer doing one operation after another. */
  clients: number;
  buyers: number;
  creators: number;
  listingsPerCreator: number;
  /** How long clients start new operations, in ms. */
  workloadMs: number;
  /** SIGKILLs of a random node, spread over the workload. */
  kills: number;
  /** A client attempt's timeout and when a request is given up as unknown, in ms. */
  timeoutMs: number;
  giveUpMs: number;
}

export const PROFILES: Record<'short' | 'long', Profile> = {
  short: {
    name: 'short',
    nodes: 2,
    clients: 8,
    buyers: 8,
    creators: 2,
    listingsPerCreator: 4,
    workloadMs: 30_000,
    kills: 2,
    timeoutMs: 5_000,
    giveUpMs: 90_000,
  },
  long: {
    name: 'long',
    nodes: 3,
    clients: 24,
    buyers: 24,
    creators: 4,
    listingsPerCreator: 6,
    workloadMs: 180_000,
    kills: 8,
    timeoutMs: 5_000,
    giveUpMs: 120_000,
  },
};
