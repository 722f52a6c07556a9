import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { OutboxBacklog, OutboxRepository } from './outbox.repository';

export interface OutboxHandler {
  kind: string;
  deliver(payload: Record<string, unknown>): Promise<void>;
}

const MAX_ATTEMPTS = 10;

/**
 * Transactional outbox: messages are written in the same transaction as the change that causes
 * them, and delivered afterwards (at least once) by a dispatcher that any number of processes can
 * run side by side (rows are claimed with SKIP LOCKED).
 */
@Injectable()
export class OutboxService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Outbox');
  private readonly handlers = new Map<string, OutboxHandler>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly messages: OutboxRepository,
  ) {}

  registerHandler(handler: OutboxHandler): void {
    this.handlers.set(handler.kind, handler);
  }

  onModuleInit(): void {
    if (!this.config.jobsEnabled) return;
    this.timer = setInterval(() => void this.flush().catch((err) => this.logger.error({ err }, 'outbox flush failed')), 1000);
    this.timer.unref();
  }

  /** A delivery under way finishes first (what it marked sent commits). */
  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Adds a message; pass the caller's manager so it commits (or not) with the caller's change. */
  async add(em: EntityManager | undefined, kind: string, payload: Record<string, unknown>): Promise<void> {
    await this.messages.add(em ?? this.dataSource.manager, kind, payload);
  }

  /** What is waiting for delivery (readiness and /metrics). */
  backlog(): Promise<OutboxBacklog> {
    return this.messages.backlog(this.dataSource, MAX_ATTEMPTS);
  }

  /** Delivers everything that is ready; returns how many were delivered. */
  flush(): Promise<number> {
    this.running ??= this.deliverBatches().finally(() => (this.running = undefined));
    return this.running;
  }

  private async deliverBatches(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const n = await this.deliverBatch(50);
      delivered += n.delivered;
      if (n.claimed < 50) return delivered;
    }
  }

  private async deliverBatch(limit: number): Promise<{ claimed: number; delivered: number }> {
    return this.dataSource.transaction(async (em) => {
      const rows = await this.messages.claimReady(em, MAX_ATTEMPTS, limit);
      let delivered = 0;
      for (const row of rows) {
        try {
          const handler = this.handlers.get(row.kind);
          if (!handler) throw new Error(`no handler for outbox kind ${row.kind}`);
          await handler.deliver(row.payload);
          await this.messages.markSent(em, row.id);
          delivered++;
        } catch (err) {
          this.logger.warn({ err, id: row.id }, 'outbox delivery failed; will retry');
          await this.messages.markFailed(em, row.id, String((err as Error)?.message ?? err).slice(0, 1000));
        }
      }
      return { claimed: rows.length, delivered };
    });
  }
}
