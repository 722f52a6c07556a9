import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { PreparedHold, SYSTEM_OWNER } from './entry-input';
import { HoldStatus } from './hold-state';
import { AccountRef, Asset, SystemAccountName, UserAccountName } from './ledger.types';

interface HoldRow {
  id: string;
  kind: string;
  status: HoldStatus;
  amount: string;
  captured: string | null;
  capture_entry_id: string | null;
  metadata: Record<string, unknown>;
  expires_at: Date;
  from_account_id: string;
  from_owner: string;
  from_name: string;
  to_owner: string;
  to_name: string;
  asset: Asset;
}

/** A hold as its capture, void or expiry sees it. */
export interface Hold {
  id: string;
  kind: string;
  status: HoldStatus;
  amount: bigint;
  /** What a capture took, and the entry it wrote (only once captured). */
  captured?: { amount: bigint; entryId: string };
  metadata: Record<string, unknown>;
  expiresAt: Date;
  fromAccountId: string;
  from: AccountRef;
  to: AccountRef;
}

function refOf(owner: string, asset: Asset, name: string): AccountRef {
  return owner === SYSTEM_OWNER ? { system: name as SystemAccountName, asset } : { userId: owner, asset, name: name as UserAccountName };
}

export function toHold(row: HoldRow): Hold {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    amount: BigInt(row.amount),
    captured: row.status === 'captured' ? { amount: BigInt(row.captured!), entryId: row.capture_entry_id! } : undefined,
    metadata: row.metadata,
    expiresAt: row.expires_at,
    fromAccountId: row.from_account_id,
    from: refOf(row.from_owner, row.asset, row.from_name),
    to: refOf(row.to_owner, row.asset, row.to_name),
  };
}

/** ledger_holds (their funds are reserved and released by its trigger). */
@Injectable()
export class LedgerHoldsRepository {
  /** Inserts a hold; answers its id, or undefined when a concurrent transaction wrote the reference first. */
  async insert(em: EntityManager, h: PreparedHold, fromId: string, toId: string): Promise<string | undefined> {
    const [row] = await queryRows<{ id: string }>(
      em,
      `INSERT INTO ledger_holds (reference, kind, from_account_id, to_account_id, amount, metadata, content_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
       ON CONFLICT (reference) DO NOTHING RETURNING id`,
      [h.reference, h.kind, fromId, toId, h.amount.toString(), h.metadataJson, h.contentHash, h.createdAt, h.expiresAt],
      { prepare: true },
    );
    return row?.id;
  }

  /** The hold, locked until the transaction ends. */
  async lock(em: EntityManager, id: string): Promise<Hold | undefined> {
    const [row] = await queryRows<HoldRow>(
      em,
      `SELECT h.id, h.kind, h.status, h.amount::text AS amount, h.captured::text AS captured, h.capture_entry_id,
              h.metadata, h.expires_at, h.from_account_id::text AS from_account_id,
              fa.owner_id AS from_owner, fa.name AS from_name, ta.owner_id AS to_owner, ta.name AS to_name, fa.asset
         FROM ledger_holds h
         JOIN ledger_accounts fa ON fa.id = h.from_account_id
         JOIN ledger_accounts ta ON ta.id = h.to_account_id
        WHERE h.id = $1 FOR UPDATE OF h`,
      [id],
      { prepare: true },
    );
    return row && toHold(row);
  }

  /** Locks (skipping those locked right now) up to `limit` pending holds expired by `now`, soonest first. */
  lockExpired(em: EntityManager, now: Date, limit: number): Promise<{ id: string; from_account_id: string }[]> {
    return queryRows<{ id: string; from_account_id: string }>(
      em,
      `SELECT id, from_account_id::text AS from_account_id FROM ledger_holds
        WHERE status = 'pending' AND expires_at <= $1
        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
      { prepare: true },
    );
  }

  /** Closes pending holds without a capture (voided or expired); the trigger releases their funds. */
  async close(em: EntityManager, ids: string[], status: HoldStatus, now: Date): Promise<void> {
    await queryRows(em, 'UPDATE ledger_holds SET status = $2, closed_at = $3 WHERE id = ANY($1::uuid[])', [ids, status, now], {
      prepare: true,
    });
  }

  /** Closes a pending hold as captured by `entryId` (written in the same transaction). */
  async markCaptured(em: EntityManager, id: string, captured: bigint, entryId: string, now: Date): Promise<void> {
    await queryRows(
      em,
      `UPDATE ledger_holds SET status = 'captured', closed_at = $2, captured = $3, capture_entry_id = $4 WHERE id = $1`,
      [id, now, captured.toString(), entryId],
      { prepare: true },
    );
  }
}
