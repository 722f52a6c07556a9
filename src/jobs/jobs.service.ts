import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { BusinessMetrics } from '../common/metrics';
import { AppConfig } from '../config/app-config';
import { afterCommit } from '../database/after-commit';
import { ListeningClient } from '../database/pg-clients';
import { queryRows } from '../database/sql';
import { RunSlots } from './run-slots';

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
  /** How many of the queue's jobs one process runs at once (default 1). */
  concurrency?: number;
  /** `enqueuePromptly`: how long the queued job waits for the prompt run before any worker may take it (default 10). */
  promptFallbackSeconds?: number;
  /**
   * A claimed job still not finished this long after its run started is handed back for another
   * worker to run (its process died holding it); default pg-boss's 15 minutes. A handler that may
   * run longer must be safe to run twice at once.
   */
  expireInSeconds?: number;
  /**
   * Runs one job. `jobId`: the queued job this run is for (the prompt run's fallback, or the claimed
   * job). A handler may remove that job itself in the transaction that does the work
   * (`JobsService.removeJobs`) and answer `JOB_REMOVED`; otherwise the job is removed or completed
   * after a successful run.
   */
  handle(data: T, jobId: string): Promise<void | typeof JOB_REMOVED>;
}

/** A handler's answer: it removed its job in its own transaction (QueueHandler.handle). */
export const JOB_REMOVED = 'job removed';

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

/** pg-boss's statements, run in `em`'s transaction. */
const inTransaction = (em: EntityManager): PgBoss.Db => ({
  executeSql: async (text: string, values: unknown[]) => ({ rows: await queryRows(em, text, values) }),
});

/** A queue worker with nothing to do looks for new jobs this often. */
const QUEUE_POLL_MS = 1000;
/** A periodic job's worker looks as often as pg-boss's own worker did (its default polling interval). */
const PERIODIC_POLL_MS = 2000;
const DEFAULT_PROMPT_FALLBACK_SECONDS = 10;
/** pg-boss's queue of the jobs its schedules send (its timekeeper's QUEUES.SEND_IT). */
const SEND_IT_QUEUE = '__pgboss__send-it';
/** pg-boss's own expiry of a claimed job. */
const DEFAULT_EXPIRY_SECONDS = 15 * 60;

interface Queue {
  handler: QueueHandler;
  slots: RunSlots;
}

/**
 * Scheduled and queued work on pg-boss, so that several server processes never run the same job
 * twice. Every periodic job reads the business clock; `runDue` runs them all at once (dev route and
 * tests) and drains the queues.
 *
 * Each process runs a queue's jobs up to its `concurrency` at once: its worker claims as many as
 * it has free slots (pg-boss claims with SKIP LOCKED, so processes never share a job) and claims
 * again as soon as one ends, looking every second only while the queue is empty. A job queued with
 * `enqueuePromptly` also runs in the enqueuing process right after its transaction commits; the
 * queued job is its durable fallback.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly periodic = new Map<string, PeriodicJob>();
  private readonly queues = new Map<string, Queue>();
  private readonly runs = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
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
    this.queues.set(handler.name, { handler: handler as QueueHandler, slots: new RunSlots(handler.concurrency ?? 1) });
  }

  async onApplicationBootstrap(): Promise<void> {
    const opts = this.dataSource.options as { url?: string };
    const options: PgBoss.ConstructorOptions & { Client: typeof ListeningClient } = {
      connectionString: opts.url,
      schema: PG_BOSS_SCHEMA,
      max: 4,
      // Its pool's clients listen for their connection's errors as the application's do.
      Client: ListeningClient,
      supervise: this.config.jobsEnabled,
      schedule: this.config.jobsEnabled,
      // pg-boss hands expired claims back in its maintenance: run it often enough for the shortest expiry.
      maintenanceIntervalSeconds: Math.max(1, Math.min(120, Math.floor(this.shortestExpiry() / 2))),
      migrate: true,
    };
    const boss = new PgBoss(options);
    boss.on('error', (err) => this.logger.error({ err }, 'pg-boss error'));
    boss.on('stopped', () => (this.running = false));
    await boss.start();
    this.boss = boss;
    this.running = true;
    for (const name of [...this.periodic.keys(), ...this.queues.keys()]) {
      await boss.createQueue(name, { name, retryLimit: this.queues.get(name)?.handler.retryLimit ?? 5, retryBackoff: true });
    }
    if (!this.config.jobsEnabled) return;
    // Every idle worker waits on the stopping signal: one listener per queue and periodic job.
    setMaxListeners(this.periodic.size + this.queues.size + 10, this.stopping.signal);
    for (const job of this.periodic.values()) {
      await boss.schedule(job.name, job.cron ?? '* * * * *', {}, { singletonKey: job.name });
      // The queues' own worker, not boss.work: pg-boss 10's worker neither awaits nor catches its
      // complete/fail, so a database outage during a run was an unhandled rejection that ended the process.
      const run = async () => void (await job.run(this.clock.now()));
      void this.work({ handler: { name: job.name, handle: run }, slots: new RunSlots(1) }, PERIODIC_POLL_MS);
    }
    for (const q of this.queues.values()) void this.work(q);
    // pg-boss's timekeeper turns each due schedule into a job of its send-it queue (the job's data is
    // the job to send) and works that queue on pg-boss's own worker, with the same unhandled
    // complete: the queues' worker runs it instead.
    await boss.offWork(SEND_IT_QUEUE);
    const sendIt = async (job: object) => void (await boss.insert([job as PgBoss.JobInsert]));
    void this.work({ handler: { name: SEND_IT_QUEUE, handle: sendIt }, slots: new RunSlots(1) }, PERIODIC_POLL_MS);
  }

  private shortestExpiry(): number {
    return Math.min(DEFAULT_EXPIRY_SECONDS, ...[...this.queues.values()].map((q) => q.handler.expireInSeconds ?? DEFAULT_EXPIRY_SECONDS));
  }

  /** The send options of a job of `q`: its queue's expiry. */
  private jobOptions(q: Queue): { expireInSeconds?: number } {
    return q.handler.expireInSeconds ? { expireInSeconds: q.handler.expireInSeconds } : {};
  }

  state(): JobRunnerState {
    return { running: this.running, workers: this.workers };
  }

  /** This process runs queued jobs (and is not stopping). */
  private get workers(): boolean {
    return this.running && this.config.jobsEnabled && !this.stopping.signal.aborted;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // Runs still going end on their own (a job not completed is retried once pg-boss expires it).
    await Promise.race([Promise.allSettled([...this.runs]), delay(5000, undefined, { ref: false })]);
    this.running = false;
    await this.boss?.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => undefined);
  }

  /**
   * Queues work; with `em`, the job is inserted in the caller's transaction (it exists iff that
   * commits). Returns the job's id.
   */
  async enqueue(name: string, data: object, em?: EntityManager, opts: PgBoss.SendOptions = {}): Promise<string | null> {
    if (!this.boss) throw new Error('jobs not started');
    const q = this.queues.get(name);
    if (!q) throw new Error(`unknown queue ${name}`);
    return this.boss.send(name, data, { ...this.jobOptions(q), ...opts, ...(em ? { db: inTransaction(em) } : {}) });
  }

  /** Removes jobs of a queue in `em`'s transaction (a handler that answers JOB_REMOVED). */
  async removeJobs(name: string, ids: string[], em: EntityManager): Promise<void> {
    if (ids.length) await this.boss!.deleteJob(name, ids, { db: inTransaction(em) });
  }

  /**
   * Queues jobs in `em`'s transaction (one statement for all) and, once that commits, runs each in
   * this process at once (in its turn among the queue's slots), so it does not wait for a worker to
   * find it. Each queued job is held back for the queue's `promptFallbackSeconds` and removed when
   * its prompt run succeeds: it runs only if that run failed or never happened (the process
   * stopped), on whichever process claims it. The handler must therefore be safe to run twice. A
   * process that runs no jobs (JOBS_ENABLED=false) just queues the jobs, ready at once.
   */
  async enqueuePromptly(name: string, items: object[], em: EntityManager): Promise<void> {
    const q = this.queues.get(name);
    if (!this.boss) throw new Error('jobs not started');
    if (!q) throw new Error(`unknown queue ${name}`);
    if (!items.length) return;
    const prompt = this.workers;
    const startAfter = prompt ? String(q.handler.promptFallbackSeconds ?? DEFAULT_PROMPT_FALLBACK_SECONDS) : '0';
    const jobs = items.map((data) => ({ id: randomUUID(), name, data, startAfter, ...this.jobOptions(q) }));
    await this.boss.insert(jobs, { db: inTransaction(em) });
    if (prompt) afterCommit(em, () => jobs.forEach((j) => this.track(this.runPromptly(q, j.data, j.id))));
  }

  private async runPromptly(q: Queue, data: object, jobId: string): Promise<void> {
    await q.slots.acquire();
    try {
      if (!this.workers) return; // stopping: the queued job will run it
      let answer;
      try {
        answer = await counted(q.handler.name, () => q.handler.handle(data, jobId));
      } catch (err) {
        this.logger.warn({ err, queue: q.handler.name }, 'prompt run failed; the queued job will retry it');
        return;
      }
      if (answer !== JOB_REMOVED) await this.boss!.deleteJob(q.handler.name, jobId).catch(() => undefined);
    } finally {
      q.slots.release();
    }
  }

  /** A queue's worker in this process: claims what its free slots can run, and claims again as runs end. */
  private async work(q: Queue, pollMs = QUEUE_POLL_MS): Promise<void> {
    const { signal } = this.stopping;
    while (this.workers) {
      const free = q.slots.free;
      if (free === 0) {
        await q.slots.nextRelease();
        continue;
      }
      let jobs: PgBoss.Job<object>[] = [];
      try {
        jobs = await this.boss!.fetch<object>(q.handler.name, { batchSize: free });
      } catch (err) {
        if (this.workers) this.logger.error({ err, queue: q.handler.name }, 'claiming jobs failed');
      }
      if (jobs.length === 0) {
        await delay(pollMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      for (const job of jobs) {
        q.slots.take();
        this.track(this.runJob(q.handler, job).finally(() => q.slots.release()));
      }
    }
  }

  private track(run: Promise<unknown>): void {
    const settled = run.then(
      () => undefined,
      (err) => this.logger.error({ err }, 'a job run failed unexpectedly'),
    );
    this.runs.add(settled);
    void settled.finally(() => this.runs.delete(settled));
  }

  /** Runs one claimed job and completes it, or fails it for pg-boss to retry; true when it succeeded. */
  private async runJob(q: QueueHandler, job: PgBoss.Job<object>): Promise<boolean> {
    let answer;
    try {
      answer = await q.handle(job.data, job.id);
    } catch (err) {
      BusinessMetrics.jobFailures.inc({ job: q.name });
      await this.boss!.fail(q.name, job.id, { message: String((err as Error)?.message ?? err) }).catch(() => undefined);
      return false;
    }
    if (answer === JOB_REMOVED) return true;
    // A completion lost here leaves the job active until pg-boss expires it and runs it again.
    await this.boss!.complete(q.name, job.id).catch((err) => this.logger.warn({ err, queue: q.name }, 'completing a job failed'));
    return true;
  }

  /** Runs every periodic job now, processes every queued job that is ready, and waits for this process's runs in flight. */
  async runDue(): Promise<{ periodic: string[]; processed: number; failed: number }> {
    const now = this.clock.now();
    for (const job of this.periodic.values()) await counted(job.name, () => job.run(now));
    let processed = 0;
    let failed = 0;
    for (const { handler } of this.queues.values()) {
      for (;;) {
        const jobs = await this.boss!.fetch<object>(handler.name, { batchSize: 20 });
        if (jobs.length === 0) break;
        for (const j of jobs) {
          if (await this.runJob(handler, j)) processed++;
          else failed++;
        }
      }
    }
    // What this process's workers were running ends first: a scheduled run of a periodic job holds the
    // rows it claimed (SKIP LOCKED), which the run above skipped.
    await Promise.allSettled([...this.runs]);
    return { periodic: [...this.periodic.keys()], processed, failed };
  }
}
