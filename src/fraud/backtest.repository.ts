import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { FraudAction, FraudEventType, LabelKind } from './fraud.types';

export interface ScanQuery {
  eventTypes: FraudEventType[];
  /** Decisions created after `from`, up to and including `to`. */
  from: Date;
  to: Date;
  /** The features to read (`ScanRow.feature_values`). */
  variables: string[];
}

/**
 * One stored decision as a backtest reads it. `at` is `created_at` as UTC text (see `readOnly`), which
 * sorts as the times do and is cheap to compare; `feature_values` is a JSON array of the stored values
 * of `variables`, in order, with `{}` for a feature the decision does not have (no feature value is an
 * object). Decisions with the same `feature_values` are judged the same, so it doubles as a cache key.
 */
export interface ScanRow {
  user_id: string | null;
  outcome: FraudAction;
  at: string;
  feature_values: string;
}

/** A decision read again for a backtest's sample: a ScanRow with its id and event type. */
export interface SampleRow extends ScanRow {
  id: string;
  event_type: FraudEventType;
}

export interface LabelRow {
  user_id: string;
  kind: LabelKind;
  /** `occurred_at`, as `ScanRow.at`. */
  at: string;
}

const CURSOR = 'fraud_backtest_scan';

/**
 * `ScanRow.feature_values` for the features named by parameters $first...: text concatenation, much
 * cheaper per row than json_build_array.
 */
function featureValues(variables: string[], first: number, column = 'features'): string {
  const values = variables.map((_, i) => `COALESCE(${column} -> $${first + i}, '{}')::text`);
  return `'[' || ${values.length ? values.join(` || ',' || `) : `''`} || ']'`;
}

/** What backtests read: stored decisions in bulk, and the labels that came after them. */
@Injectable()
export class BacktestRepository {
  /**
   * Makes the caller's (REPEATABLE READ) transaction a read-only snapshot, so a scan sees one state,
   * and has it write times as ISO text in UTC: 'YYYY-MM-DD HH:MM:SS[.ffffff]+00', which sort as text
   * as they do as times (a shorter fraction is followed by '+', which sorts before the digits).
   */
  async readOnly(em: EntityManager): Promise<void> {
    await queryRows(em, `SET TRANSACTION READ ONLY`);
    await queryRows(em, `SET LOCAL TimeZone = 'UTC'`);
    await queryRows(em, `SET LOCAL DateStyle = 'ISO'`);
  }

  /**
   * The decisions of `q` in pages of `pageSize`, through one cursor (one sequential scan; the caller's
   * transaction must stay open until the last page). Each page's successor is already being fetched
   * while the caller works on it.
   */
  async *scan(em: EntityManager, q: ScanQuery, pageSize: number): AsyncGenerator<ScanRow[]> {
    await queryRows(
      em,
      `DECLARE ${CURSOR} NO SCROLL CURSOR FOR
         SELECT user_id, outcome, created_at::text AS at, ${featureValues(q.variables, 4)} AS feature_values
           FROM fraud_decisions
          WHERE event_type = ANY ($1::text[]) AND created_at > $2 AND created_at <= $3`,
      [q.eventTypes, q.from, q.to, ...q.variables],
    );
    const fetch = () => queryRows<ScanRow>(em, `FETCH FORWARD ${Number(pageSize)} FROM ${CURSOR}`, [], { prepare: true });
    let next = fetch();
    for (;;) {
      const rows = await next;
      if (rows.length < pageSize) {
        await queryRows(em, `CLOSE ${CURSOR}`);
        if (rows.length) yield rows;
        return;
      }
      next = fetch();
      next.catch(() => undefined); // awaited on the next round; a caller that stops early never reads it
      yield rows;
    }
  }

  /**
   * The decisions of `q`'s event types at these (user, time) pairs (times as `ScanRow.at`), read as the
   * scan reads them: a scan reads no ids (they cost a string per row), a sample needs a few.
   */
  decisionsAt(
    em: EntityManager,
    q: Pick<ScanQuery, 'eventTypes' | 'variables'>,
    keys: { userId: string | null; at: string }[],
  ): Promise<SampleRow[]> {
    if (!keys.length) return Promise.resolve([]);
    return queryRows<SampleRow>(
      em,
      `SELECT d.id, d.user_id, d.event_type, d.outcome, d.created_at::text AS at, ${featureValues(q.variables, 4, 'd.features')} AS feature_values
         FROM unnest($1::uuid[], $2::timestamptz[]) AS k(user_id, at)
         JOIN fraud_decisions d ON d.created_at = k.at AND d.user_id IS NOT DISTINCT FROM k.user_id AND d.event_type = ANY ($3::text[])`,
      [keys.map((k) => k.userId), keys.map((k) => k.at), q.eventTypes, ...q.variables],
    );
  }

  /** The labels of `kinds` that each user received after `after` (exclusive; times as `ScanRow.at`), with when. */
  labelsAfter(em: EntityManager, userIds: string[], after: string[], kinds: readonly LabelKind[]): Promise<LabelRow[]> {
    if (!userIds.length) return Promise.resolve([]);
    return queryRows<LabelRow>(
      em,
      `SELECT l.user_id, l.kind, l.occurred_at::text AS at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, after)
         JOIN fraud_labels l ON l.user_id = u.id AND l.kind = ANY ($3::text[]) AND l.occurred_at > u.after`,
      [userIds, after, kinds],
    );
  }
}
