import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { FraudEventType } from './fraud.types';
import { RulesRepository, RuleVersion } from './rules.repository';

/**
 * The rules evaluation uses: the current version of every rule that is not DISABLED, re-read after
 * FRAUD_RULES_CACHE_MS (other processes' edits) and at once after an edit made by this process.
 *
 * A stale cache is re-read through the caller's transaction. Evaluations run inside transactions that
 * may hold row locks other requests queue on, each queued request holding a pooled connection: asking
 * the pool for one more connection there could wait for ever once the pool is spent.
 */
@Injectable()
export class RulesService {
  private cached?: { at: number; byType: Map<FraudEventType, RuleVersion[]> };
  private generation = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly rules: RulesRepository,
  ) {}

  async liveFor(em: EntityManager, type: FraudEventType): Promise<RuleVersion[]> {
    const c = this.cached;
    // performance.now(): a monotonic interval timer, not the business clock
    if (c && performance.now() - c.at < this.config.fraud.rulesCacheMs) return c.byType.get(type) ?? [];
    return (await this.load(em)).get(type) ?? [];
  }

  /** Called after every rule edit of this process. */
  invalidate(): void {
    this.generation++;
    this.cached = undefined;
  }

  private async load(em: EntityManager): Promise<Map<FraudEventType, RuleVersion[]>> {
    const at = performance.now();
    const generation = this.generation;
    const byType = new Map<FraudEventType, RuleVersion[]>();
    for (const rule of await this.rules.live(em)) {
      for (const type of rule.eventTypes) byType.set(type, [...(byType.get(type) ?? []), rule]);
    }
    if (generation === this.generation) this.cached = { at, byType };
    return byType;
  }
}
