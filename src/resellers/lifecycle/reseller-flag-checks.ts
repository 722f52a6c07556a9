import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { FraudService } from '../../fraud/fraud.service';

/** A reseller's account, and since when it counts: flags raised before it last became active were dealt with then. */
export interface FlagSubject {
  userId: string;
  since: Date;
}

/** One reason to suspend a reseller automatically: the flags on each account (accounts without any are absent). */
export interface ResellerFlagCheck {
  name: string;
  flagged(em: EntityManager, subjects: FlagSubject[]): Promise<Map<string, string[]>>;
}

/**
 * What flags a reseller's account for automatic suspension (ResellerFlagsJob). Each entry reads one
 * module through its service; add a check by adding an entry. Losses in disputes are checked when a
 * dispute is lost (OrderDisputesService), not here.
 */
@Injectable()
export class ResellerFlagChecks {
  readonly checks: ResellerFlagCheck[] = [
    {
      // Active account holds (admins' and system holds) and freezes (now), refresh-token reuse (since).
      name: 'account_guard',
      flagged: async (em, subjects) => {
        const flags = await this.guard.flags(em, subjects);
        return new Map([...flags].map(([userId, f]) => [userId, f.map((x) => `${x.kind}: ${x.detail}`)]));
      },
    },
    {
      // confirmed_takeover / confirmed_fraud labels and BLOCK decisions (since).
      name: 'fraud',
      flagged: (em, subjects) => this.fraud.flags(em, subjects),
    },
  ];

  constructor(
    private readonly guard: AccountGuardService,
    private readonly fraud: FraudService,
  ) {}

  /** Every check's flags on each account, merged. */
  async flagsOf(em: EntityManager, subjects: FlagSubject[]): Promise<Map<string, string[]>> {
    const all = new Map<string, string[]>();
    for (const check of this.checks) {
      for (const [userId, flags] of await check.flagged(em, subjects)) all.set(userId, [...(all.get(userId) ?? []), ...flags]);
    }
    return all;
  }
}
