import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Clock } from '../common/clock.service';
import { addDays } from '../common/time';
import { TransactionRunner } from '../database/transaction-runner';
import { BacktestJudge } from './backtest-judge';
import { BacktestReport, BacktestTally, DraftRule } from './backtest-tally';
import { BacktestRepository } from './backtest.repository';
import { FraudErrors } from './fraud.errors';
import { LABEL_KINDS } from './fraud.types';
import { ListsRepository } from './lists.repository';
import { validateCondition } from './rule-condition';

/** Rows per FETCH: enough to amortise the round trip, few enough to keep the event loop responsive. */
const PAGE_SIZE = 20_000;

export type { BacktestReport, DraftRule } from './backtest-tally';

/**
 * Replays a draft rule over the stored decisions of the last N days with the engine's own evaluator
 * (rule-condition.ts: the stored feature values nested by `ruleData`, `conditionHolds`, list
 * membership through `ListsRepository.members` against the lists as they are now), and scores it
 * against the labels: of the users it would have caught, how many were labelled bad afterwards.
 * Reads only, in one REPEATABLE READ snapshot, on a connection of its own.
 */
@Injectable()
export class BacktestService {
  /** The backtests of one process run one at a time: each is a full scan that keeps a core busy. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly repo: BacktestRepository,
    private readonly lists: ListsRepository,
  ) {}

  async backtest(rule: DraftRule, days: number): Promise<BacktestReport> {
    const problems = validateCondition(rule.condition);
    if (problems.length) throw FraudErrors.invalidRule(problems.map((p) => ({ ...p, field: 'rule.condition' })));
    const run = this.queue.then(() => this.replay(rule, days));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async replay(rule: DraftRule, days: number): Promise<BacktestReport> {
    const started = performance.now();
    const to = this.clock.now();
    const from = addDays(to, -days);
    const judge = new BacktestJudge(rule.condition);
    const scan = { eventTypes: rule.eventTypes, from, to, variables: judge.variables };
    const tally = new BacktestTally(judge.variables);
    const sample = await this.tx.run(
      async (em) => {
        await this.repo.readOnly(em);
        for await (const page of this.repo.scan(em, scan, PAGE_SIZE)) {
          const verdicts = await judge.page(page, (probes) => this.lists.members(em, probes, to));
          page.forEach((r, i) => tally.add(r, verdicts[i]));
        }
        tally.label(await this.repo.labelsAfter(em, tally.userIds, tally.firstSeen, LABEL_KINDS));
        return tally.sample(await this.repo.decisionsAt(em, scan, tally.sampleKeys()));
      },
      { isolation: 'REPEATABLE READ' },
    );
    return { rule, days, from, to, ...tally.report(), sample, durationMs: Math.round(performance.now() - started) };
  }
}
