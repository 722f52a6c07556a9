import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { BreachView } from './dto/economy-report.dto';
import { BudgetVerdict, HarmBudget } from './harm-budgets.policy';

type Db = DataSource | EntityManager;

export interface BreachRow {
  id: string;
  budget: HarmBudget;
  status: 'open' | 'cleared';
  threshold_bp: number;
  window_days: number;
  numerator: string;
  denominator: string;
  opened_at: Date;
  cleared_at: Date | null;
}

const COLUMNS = 'id, budget, status, threshold_bp, window_days, numerator::text, denominator::text, opened_at, cleared_at';

/** `harm_budget_breaches`: one row per breach, open until the budget's rate is back under its threshold. */
@Injectable()
export class HarmBudgetsRepository {
  openBreaches(db: Db): Promise<BreachRow[]> {
    return queryRows<BreachRow>(db, `SELECT ${COLUMNS} FROM harm_budget_breaches WHERE status = 'open' ORDER BY opened_at, budget`);
  }

  /** Records a breach unless the budget already has one open (the partial unique index): the new row, or none. */
  record(em: EntityManager, v: BudgetVerdict, windowDays: number, at: Date): Promise<BreachRow[]> {
    return queryRows<BreachRow>(
      em,
      `INSERT INTO harm_budget_breaches (budget, threshold_bp, window_days, numerator, denominator, opened_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (budget) WHERE status = 'open' DO NOTHING
       RETURNING ${COLUMNS}`,
      [v.budget, v.thresholdBp, windowDays, v.numerator.toString(), v.denominator.toString(), at],
    );
  }

  /** Clears the budget's open breach; the cleared row, if there was one. */
  clear(em: EntityManager, budget: HarmBudget, at: Date): Promise<BreachRow[]> {
    return queryRows<BreachRow>(
      em,
      `UPDATE harm_budget_breaches SET status = 'cleared', cleared_at = $2 WHERE budget = $1 AND status = 'open' RETURNING ${COLUMNS}`,
      [budget, at],
    );
  }
}

export function toBreachView(b: BreachRow): BreachView {
  return {
    id: b.id,
    budget: b.budget,
    status: b.status,
    thresholdBp: b.threshold_bp,
    windowDays: b.window_days,
    numerator: Number(b.numerator),
    denominator: Number(b.denominator),
    rate: Number(b.numerator) / Number(b.denominator),
    openedAt: b.opened_at.toISOString(),
    clearedAt: b.cleared_at?.toISOString() ?? null,
  };
}
