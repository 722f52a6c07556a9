import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readGauge, scrapedGauge } from '../common/metrics';
import { poolStats } from '../database/pool-stats';
import { OutboxService } from '../notifications/outbox.service';

const OUTBOX_MESSAGES = 'outbox_messages';
const OUTBOX_LAG = 'outbox_lag_seconds';
const DB_POOL = 'db_pool_connections';

// The pool first: gauges are collected together, and the outbox's query would otherwise count in the pool's numbers.
scrapedGauge(DB_POOL, 'Application database pool: connections in use and idle, callers waiting for one', ['state']);
scrapedGauge(OUTBOX_MESSAGES, 'Undelivered outbox messages: pending (still tried) or dead (out of attempts)', ['state']);
scrapedGauge(OUTBOX_LAG, 'Age of the oldest outbox message still to be delivered (0 when none)');

/** Queue and pool gauges, read from this application when /metrics is scraped. */
@Injectable()
export class QueueMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly removals: (() => void)[] = [];

  constructor(
    private readonly outbox: OutboxService,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    let backlog: ReturnType<OutboxService['backlog']> | undefined;
    // Both outbox gauges come from one query per scrape.
    const read = () => (backlog ??= this.outbox.backlog().finally(() => (backlog = undefined)));
    const outboxMessages = readGauge(OUTBOX_MESSAGES, async () => {
      const b = await read();
      return [
        [{ state: 'pending' }, b.pending],
        [{ state: 'dead' }, b.dead],
      ];
    });
    const outboxLag = readGauge(OUTBOX_LAG, async () => [[{}, (await read()).lagSeconds]]);
    const pool = readGauge(DB_POOL, async () => {
      const s = poolStats(this.dataSource);
      return s
        ? [
            [{ state: 'in_use' }, s.inUse],
            [{ state: 'idle' }, s.idle],
            [{ state: 'waiting' }, s.waiting],
          ]
        : [];
    });
    this.removals.push(outboxMessages, outboxLag, pool);
  }

  onModuleDestroy(): void {
    for (const remove of this.removals) remove();
  }
}
