import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { BusinessMetrics } from '../common/metrics';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';

/** Work done on a schedule: processes everything due as of `now` (idempotent; safe to run twice). */
export interface PeriodicJob {
  name: string;
  /** pg-boss cron (minute resolution); default every minute. */
  cron?: string;
  run(now: Date): Promise<unknown>;
}

/** Work queued by the application (for example a received webhook), retried on failure. */
export interface QueueHandler<T extends object = object> {
  name: string;
  retryLimit?: number;
  handle(data: T): Promise<void>;
}

export const PG_BOSS_SCHEMA = 'pgboss';

/** What readiness reports of the job runner: pg-boss started (and not stopped); `workers`: this process runs the jobs. */
export interface JobRunnerState {
  running: boolean;
  workers: boolean;
}

/** Counts a failed run of `job` and rethrows, so that pg-boss retries it as before. */
async function counted<T>(job: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    BusinessMetrics.jobFailures.inc({ job });
    throw err;
  }
}

/**
 * Scheduled and queued work on pg-boss, so that several server processes never run the same job
 * twice. Every periodic job reads the business clock; `runDue` runs them all at once (dev route and
 * tests) and drains the queues.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly periodic = new Map<string, PeriodicJob>();
  private readonly queues = new Map<string, QueueHandler>();
  private boss?: PgBoss;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  registerPeriodic(job: PeriodicJob): void {
    this.periodic.set(job.name, job);
  }

  registerQueue<T extends object>(handler: QueueHandler<T>): void {
    this.queues.set(handler.name, handler as QueueHandler);
  }

  async onApplicationBootstrap(): Promise<void> {
    const opts = this.dataSource.options as { url?: string };
    const boss = new PgBoss({
      connectionString: opts.url,
      schema: PG_BOSS_SCHEMA,
      max: 4,
      supervise: this.config.jobsEnabled,
      schedule: this.config.jobsEnabled,
      migrate: true,
    });
    boss.on('error', (err) => this.logger.error({ err }, 'pg-boss error'));
    boss.on('stopped', () => (this.running = false));
    await boss.start();
    this.boss = boss;
    this.running = true;
    for (const name of [...this.periodic.keys(), ...this.queues.keys()]) {
      await boss.createQueue(name, { name, retryLimit: this.queues.get(name)?.retryLimit ?? 5, retryBackoff: true });
    }
    if (!this.config.jobsEnabled) return;
    for (const job of this.periodic.values()) {
      await boss.schedule(job.name, job.cron ?? '* * * * *', {}, { singletonKey: job.name });
      await boss.work(job.name, async () => {
        await counted(job.name, () => job.run(this.clock.now()));
      });
    }
    for (const q of this.queues.values()) {
      await boss.work<object>(q.name, { pollingIntervalSeconds: 1 }, async (jobs) => {
        for (const j of jobs) await counted(q.name, () => q.handle(j.data));
      });
    }
  }

  state(): JobRunnerState {
    return { running: this.running, workers: this.running && this.config.jobsEnabled };
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.boss?.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => undefined);
  }

  /** Queues work; with `em`, the job is inserted in the caller's transaction (it exists iff that commits). */
  async enqueue(name: string, data: object, em?: EntityManager, opts: PgBoss.SendOptions = {}): Promise<void> {
    if (!this.boss) throw new Error('jobs not started');
    if (!this.queues.has(name)) throw new Error(`unknown queue ${name}`);
    const db = em ? { executeSql: async (text: string, values: unknown[]) => ({ rows: await queryRows(em, text, values) }) } : undefined;
    await this.boss.send(name, data, { ...opts, ...(db ? { db } : {}) });
  }

  /** Runs every periodic job now, then processes every queued job that is ready. */
  async runDue(): Promise<{ periodic: string[]; processed: number; failed: number }> {
    const now = this.clock.now();
    for (const job of this.periodic.values()) await counted(job.name, () => job.run(now));
    let processed = 0;
    let failed = 0;
    for (const q of this.queues.values()) {
      for (;;) {
        const jobs = await this.boss!.fetch<object>(q.name, { batchSize: 20 });
        if (jobs.length === 0) break;
        for (const j of jobs) {
          try {
            await q.handle(j.data);
            await this.boss!.complete(q.name, j.id);
            processed++;
          } catch (err) {
            BusinessMetrics.jobFailures.inc({ job: q.name });
            await this.boss!.fail(q.name, j.id, { message: String((err as Error)?.message ?? err) });
            failed++;
          }
        }
      }
    }
    return { periodic: [...this.periodic.keys()], processed, failed };
  }
}
