import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { amountToJson } from '../common/money';
import { queryRows } from '../database/sql';

export interface CreditTransferView {
  id: string;
  status: 'completed' | 'held_for_review' | 'rejected';
  fromUserId: string;
  toUserId: string;
  amount: number;
  note: string | null;
  createdAt: string;
}

export interface CreditTransferRow {
  id: string;
  from_user_id: string;
  to_user_id: string;
  amount: string;
  note: string | null;
  status: CreditTransferView['status'];
  created_at: Date;
  /** The ledger hold reserving the amount while the transfer is held for review. */
  hold_id: string | null;
  idempotency_key: string;
}

export function toCreditTransferView(r: CreditTransferRow): CreditTransferView {
  return {
    id: r.id,
    status: r.status,
    fromUserId: r.from_user_id,
    toUserId: r.to_user_id,
    amount: amountToJson(r.amount),
    note: r.note,
    createdAt: r.created_at.toISOString(),
  };
}

export interface NewCreditTransfer {
  id: string;
  fromUserId: string;
  toUserId: string;
  amount: bigint;
  note: string | null;
  idempotencyKey: string;
  createdAt: Date;
  status: Extract<CreditTransferView['status'], 'completed' | 'held_for_review'>;
  holdId: string | null;
}

const COLUMNS = 'id, from_user_id, to_user_id, amount, note, status, created_at, hold_id, idempotency_key';

/** `credit_transfers`: gifts of credits between users. */
@Injectable()
export class CreditTransfersRepository {
  /** Serializes each sender's transfers until the transaction ends (the 30-day sums stay exact); in id order, so batches never deadlock. */
  async lockSenders(em: EntityManager, senderIds: string[]): Promise<void> {
    await queryRows(
      em,
      `SELECT count(pg_advisory_xact_lock(hashtextextended('credit_transfers:' || s.id, 0)))
         FROM (SELECT DISTINCT id FROM unnest($1::uuid[]) AS u(id) ORDER BY id) s`,
      [senderIds],
    );
  }

  /** What each sender (those who sent any) has gifted since `since`, counting every transfer not rejected. */
  async sentSince(em: EntityManager, senderIds: string[], since: Date): Promise<Map<string, bigint>> {
    const rows = await queryRows<{ from_user_id: string; sent: string }>(
      em,
      `SELECT from_user_id, sum(amount)::text AS sent FROM credit_transfers
       WHERE from_user_id = ANY ($1::uuid[]) AND created_at > $2 AND status <> 'rejected'
       GROUP BY from_user_id`,
      [senderIds, since],
    );
    return new Map(rows.map((r) => [r.from_user_id, BigInt(r.sent)]));
  }

  /** Inserts the transfers; answers their rows in the same order. */
  async insertMany(em: EntityManager, ts: NewCreditTransfer[]): Promise<CreditTransferRow[]> {
    if (!ts.length) return [];
    const rows = await queryRows<CreditTransferRow>(
      em,
      `INSERT INTO credit_transfers (id, from_user_id, to_user_id, amount, note, status, hold_id, idempotency_key, created_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::timestamptz[])
       RETURNING ${COLUMNS}`,
      [
        ts.map((t) => t.id),
        ts.map((t) => t.fromUserId),
        ts.map((t) => t.toUserId),
        ts.map((t) => t.amount.toString()),
        ts.map((t) => t.note),
        ts.map((t) => t.status),
        ts.map((t) => t.holdId),
        ts.map((t) => t.idempotencyKey),
        ts.map((t) => t.createdAt),
      ],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ts.map((t) => byId.get(t.id)!);
  }

  async findForUpdate(em: EntityManager, id: string): Promise<CreditTransferRow | undefined> {
    const [row] = await queryRows<CreditTransferRow>(em, `SELECT ${COLUMNS} FROM credit_transfers WHERE id = $1 FOR UPDATE`, [id]);
    return row;
  }

  async markStatus(em: EntityManager, id: string, status: CreditTransferView['status']): Promise<void> {
    await queryRows(em, `UPDATE credit_transfers SET status = $2 WHERE id = $1`, [id, status]);
  }
}
