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
  /** Serializes one sender's transfers until the transaction ends (the 30-day sum stays exact). */
  async lockSender(em: EntityManager, senderId: string): Promise<void> {
    await queryRows(em, `SELECT pg_advisory_xact_lock(hashtextextended('credit_transfers:' || $1, 0))`, [senderId]);
  }

  /** What the sender has gifted since `since`, counting every transfer not rejected. */
  async sentSince(em: EntityManager, senderId: string, since: Date): Promise<bigint> {
    const [{ sent }] = await queryRows<{ sent: string }>(
      em,
      `SELECT coalesce(sum(amount), 0)::text AS sent FROM credit_transfers
       WHERE from_user_id = $1 AND created_at > $2 AND status <> 'rejected'`,
      [senderId, since],
    );
    return BigInt(sent);
  }

  async insert(em: EntityManager, t: NewCreditTransfer): Promise<CreditTransferRow> {
    const [row] = await queryRows<CreditTransferRow>(
      em,
      `INSERT INTO credit_transfers (id, from_user_id, to_user_id, amount, note, status, hold_id, idempotency_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [t.id, t.fromUserId, t.toUserId, t.amount.toString(), t.note, t.status, t.holdId, t.idempotencyKey, t.createdAt],
    );
    return row;
  }

  async findForUpdate(em: EntityManager, id: string): Promise<CreditTransferRow | undefined> {
    const [row] = await queryRows<CreditTransferRow>(em, `SELECT ${COLUMNS} FROM credit_transfers WHERE id = $1 FOR UPDATE`, [id]);
    return row;
  }

  async markStatus(em: EntityManager, id: string, status: CreditTransferView['status']): Promise<void> {
    await queryRows(em, `UPDATE credit_transfers SET status = $2 WHERE id = $1`, [id, status]);
  }
}
