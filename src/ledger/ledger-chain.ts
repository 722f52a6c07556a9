import { createHash } from 'node:crypto';

export const GENESIS_HASH = Buffer.alloc(32);

/** What an entry's seal covers: its identity, content and every posting (account, amount, in order). */
export interface ChainEntry {
  id: string;
  reference: string;
  kind: string;
  metadata: string;
  createdAt: string;
  postings: string[];
}

/** hash = sha256(previous hash || canonical entry). Changing any sealed entry or posting breaks every later link. */
export function chainHash(prev: Buffer, e: ChainEntry): Buffer {
  return createHash('sha256')
    .update(prev)
    .update(JSON.stringify([e.id, e.reference, e.kind, e.createdAt, e.metadata, e.postings]))
    .digest();
}
