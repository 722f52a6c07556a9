import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { BusinessClockRepository } from './business-clock.repository';
import { addSeconds, SECOND_MS } from './time';

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
    private readonly businessClock: BusinessClockRepository,
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
    return addSeconds(this.now(), seconds);
  }

  async advance(seconds: number): Promise<Date> {
    this.moveTo(await this.businessClock.advance(this.dataSource, Math.round(seconds * SECOND_MS)));
    return this.now();
  }

  async refresh(): Promise<void> {
    this.moveTo(await this.businessClock.offsetMs(this.dataSource));
  }

  /** The offset only grows: a refresh that read it before an advance may answer after it, and must not undo it. */
  private moveTo(offsetMs: number): void {
    this.offsetMs = Math.max(this.offsetMs, offsetMs);
  }
}
