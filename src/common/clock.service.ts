import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';

/**
 * The business clock. Every rule, hold, expiry and scheduled job asks it for the time (never
 * `Date.now()` or SQL `now()` directly). In development the clock can be moved forward; the offset
 * lives in PostgreSQL so that every server process sees the same time.
 */
@Injectable()
export class Clock implements OnModuleInit, OnModuleDestroy {
  private offsetMs = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    if (this.config.devRoutes) {
      this.timer = setInterval(() => void this.refresh().catch(() => undefined), 1000);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** `seconds` from now on the business clock. */
  in(seconds: number): Date {
    return new Date(this.nowMs() + seconds * 1000);
  }

  async advance(seconds: number): Promise<Date> {
    const rows = await queryRows<{ offset_ms: string }>(
      this.dataSource,
      'UPDATE business_clock SET offset_ms = offset_ms + $1 WHERE id = 1 RETURNING offset_ms',
      [Math.round(seconds * 1000)],
    );
    this.offsetMs = Number(rows[0].offset_ms);
    return this.now();
  }

  async refresh(): Promise<void> {
    const rows: { offset_ms: string }[] = await this.dataSource.query('SELECT offset_ms FROM business_clock WHERE id = 1');
    this.offsetMs = rows.length ? Number(rows[0].offset_ms) : 0;
  }
}
