import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import { TransactionRunner } from '../../database/transaction-runner';
import { paymentIntentOf, SandboxObjects, StripeObject } from './fake-stripe.scenarios';
import type { SandboxStore, StoredRequest } from './sandbox-store';

interface ObjectRow {
  id: string;
  data: StripeObject;
}

/**
 * The server sandbox's store (sandbox_stripe_objects, sandbox_stripe_idempotency): every process on
 * the database sees the same PaymentIntents, charges, refunds, disputes and Idempotency-Keys. A
 * change locks its PaymentIntent's row first, then reads the PaymentIntent's objects in a statement
 * of its own, so it sees what a change it waited for committed.
 */
@Injectable()
export class SandboxStripeRepository implements SandboxStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
  ) {}

  change<T>(paymentIntent: string | undefined, work: (objs: SandboxObjects) => T): Promise<T> {
    return this.tx.run(async (em) => {
      const loaded = new Map<string, StripeObject>();
      if (paymentIntent !== undefined) {
        await queryRows(em, `SELECT 1 FROM sandbox_stripe_objects WHERE id = $1 FOR UPDATE`, [paymentIntent]);
        const rows = await queryRows<ObjectRow>(
          em,
          `SELECT id, data FROM sandbox_stripe_objects WHERE payment_intent = $1 AND kind <> 'event'`,
          [paymentIntent],
        );
        for (const r of rows) loaded.set(r.id, r.data);
      }
      const changed = new Map<string, StripeObject>();
      const events: Stripe.Event[] = [];
      const result = work({
        get: (id) => loaded.get(id),
        ofKind: (kind) => [...loaded.values()].filter((o) => o.object === kind),
        put: (obj) => {
          loaded.set(obj.id, obj);
          changed.set(obj.id, obj);
        },
        record: (event) => void events.push(event),
      });
      await this.save(em, [...changed.values(), ...(events as unknown as StripeObject[])]);
      return result;
    });
  }

  private async save(em: EntityManager, objs: StripeObject[]): Promise<void> {
    if (!objs.length) return;
    const rows = objs.map((o) => ({
      id: o.id,
      kind: o.object,
      // An event belongs to the PaymentIntent of the object it is about.
      payment_intent: o.object === 'event' ? paymentIntentOf((o.data as { object: StripeObject }).object) : paymentIntentOf(o),
      data: o,
    }));
    await queryRows(
      em,
      `INSERT INTO sandbox_stripe_objects (id, kind, payment_intent, data, created_at)
       SELECT r.id, r.kind, r.payment_intent, r.data, to_timestamp((r.data->>'created')::bigint)
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, kind text, payment_intent text, data jsonb)
       ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`,
      [JSON.stringify(rows)],
    );
  }

  async find(id: string): Promise<StripeObject | undefined> {
    const rows = await queryRows<ObjectRow>(this.dataSource, `SELECT id, data FROM sandbox_stripe_objects WHERE id = $1`, [id]);
    return rows[0]?.data;
  }

  async claimKey(key: string, fingerprint: string): Promise<StoredRequest | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.tryClaim(key, fingerprint);
      // No row: the key was inserted by a statement that committed after this one's snapshot; look again.
      if (row === undefined) continue;
      if (row.claimed) return undefined;
      return { fingerprint: row.fingerprint, answer: row.status === null ? undefined : { status: row.status, body: row.body } };
    }
    throw new Error(`sandbox Idempotency-Key ${key}: neither claimed nor found`);
  }

  private async tryClaim(key: string, fingerprint: string) {
    const rows = await queryRows<{ claimed: boolean; fingerprint: string; status: number | null; body: unknown }>(
      this.dataSource,
      `WITH claimed AS (
         INSERT INTO sandbox_stripe_idempotency (key, fingerprint) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key
       )
       SELECT true AS claimed, $2 AS fingerprint, NULL::integer AS status, NULL::jsonb AS body FROM claimed
       UNION ALL
       SELECT false, fingerprint, status, body FROM sandbox_stripe_idempotency WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
      [key, fingerprint],
    );
    return rows[0];
  }

  async answerKey(key: string, answer: { status: number; body: unknown }): Promise<void> {
    await queryRows(this.dataSource, `UPDATE sandbox_stripe_idempotency SET status = $2, body = $3 WHERE key = $1`, [
      key,
      answer.status,
      JSON.stringify(answer.body),
    ]);
  }

  async releaseKey(key: string): Promise<void> {
    await queryRows(this.dataSource, `DELETE FROM sandbox_stripe_idempotency WHERE key = $1 AND status IS NULL`, [key]);
  }
}
