import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../account-guard/account-guard.service';
import { Clock } from '../common/clock.service';
import { DAY_MS, MINUTE_MS } from '../common/time';
import { IdentityService } from '../identity/identity.service';
import { DecisionsRepository, VelocityRow } from './decisions.repository';
import { FeatureValues, FraudEvent } from './fraud.types';
import { sideBySide } from '../database/side-by-side';

const num = (v: string | number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const days = (since: Date, now: Date): number => Math.max(0, (now.getTime() - since.getTime()) / DAY_MS);
const plusOne = (n: number | null): number | null => (n === null ? null : n + 1);
const withOne = (xs: string[] | null, x: string | null): number | null =>
  xs === null ? (x ? 1 : null) : new Set([...xs, ...(x ? [x] : [])]).size;

/**
 * The feature values of events (feature-catalog.ts), computed in the caller's transaction with one
 * statement per source: the users (identity) and the account guard's signals (sent together), then the
 * velocity, sharing and label features over the stored decisions (by the signals' device). Counts
 * include the event being decided.
 */
@Injectable()
export class FeaturesService {
  constructor(
    private readonly clock: Clock,
    private readonly identity: IdentityService,
    private readonly guard: AccountGuardService,
    private readonly decisions: DecisionsRepository,
  ) {}

  async compute(em: EntityManager, given: FraudEvent[]): Promise<{ features: FeatureValues[]; deviceIds: (string | null)[] }> {
    const now = this.clock.now();
    const events = await this.withOrigins(em, given);
    const [users, signals] = await sideBySide([
      this.identity.findUsers(
        em,
        events.flatMap((e) => (e.recipientId ? [e.userId, e.recipientId] : [e.userId])),
      ),
      this.guard.fraudSignals(
        em,
        events.map((e) => ({ userId: e.userId, sessionId: e.sessionId ?? null, ip: e.ip ?? null })),
      ),
    ]);
    const deviceIds = events.map((e, i) => (e.login ? (e.login.deviceId ?? null) : (e.originDeviceId ?? signals[i].deviceId)));
    const velocity = await this.decisions.velocity(
      em,
      events.map((e, i) => ({
        userId: e.userId,
        eventType: e.type,
        ip: e.ip ?? null,
        deviceId: deviceIds[i],
        cardFingerprint: e.card?.fingerprint ?? null,
        recipientId: e.recipientId ?? null,
      })),
      now,
    );
    const features = events.map((e, i): FeatureValues => {
      const user = users.get(e.userId);
      const recipient = e.recipientId ? users.get(e.recipientId) : undefined;
      const s = signals[i];
      const v: VelocityRow = velocity[i];
      const amount = e.amount === undefined ? null : Number(e.amount);
      const email = (user?.email ?? e.email ?? null)?.toLowerCase() ?? null;
      const median = num(v.user_median_30d);
      const card = e.card?.fingerprint ?? null;
      const reset = s.lastPasswordResetAt;
      return {
        'event.type': e.type,
        'event.amount': amount,
        'event.amountCents': num(e.amountCents?.toString()),
        'event.currency': e.currency ?? null,
        'event.amountToMedian': amount !== null && median ? amount / median : null,
        'user.id': e.userId,
        'user.email': email,
        'user.emailDomain': email?.split('@')[1] ?? null,
        'user.ageDays': user ? days(user.createdAt, now) : 0,
        'user.emailVerified': !!user?.emailVerifiedAt,
        'user.twoFactorEnabled': s.twoFactorEnabled,
        'user.roles': user?.roles ?? ['buyer'],
        'user.chargebacks': v.chargebacks,
        'user.disputesLost': v.disputes_lost,
        'user.confirmedBad': v.confirmed_bad,
        'user.blocks90d': v.user_blocks_90d,
        'user.minutesSincePasswordReset': reset ? Math.max(0, (now.getTime() - reset.getTime()) / MINUTE_MS) : null,
        'user.events1h': v.user_events_1h + 1,
        'user.events24h': v.user_events_24h + 1,
        'user.events7d': v.user_events_7d + 1,
        'user.amount1h': Number(v.user_amount_1h) + (amount ?? 0),
        'user.amount24h': Number(v.user_amount_24h) + (amount ?? 0),
        'user.amount7d': Number(v.user_amount_7d) + (amount ?? 0),
        'user.cards24h': withOne(v.user_cards_24h, card) ?? 0,
        'device.id': deviceIds[i],
        'device.isNew': e.login ? e.login.deviceIsNew : s.deviceIsNew,
        'device.events1h': plusOne(v.device_events_1h),
        'device.events24h': plusOne(v.device_events_24h),
        'device.events7d': plusOne(v.device_events_7d),
        'device.accounts24h': deviceIds[i] ? withOne(v.device_accounts_24h ?? [], e.userId) : null,
        'network.isNew': e.login ? e.login.networkIsNew : s.networkIsNew,
        'ip.address': e.ip ?? null,
        'ip.country': e.ipCountry ?? null,
        'ip.events1h': plusOne(v.ip_events_1h),
        'ip.events24h': plusOne(v.ip_events_24h),
        'ip.events7d': plusOne(v.ip_events_7d),
        'ip.accounts24h': e.ip ? withOne(v.ip_accounts_24h ?? [], e.userId) : null,
        'card.fingerprint': card,
        'card.country': e.card?.country ?? null,
        'card.events1h': plusOne(v.card_events_1h),
        'card.events24h': plusOne(v.card_events_24h),
        'card.events7d': plusOne(v.card_events_7d),
        'card.accounts7d': card ? withOne(v.card_accounts_7d ?? [], e.userId) : null,
        'payment.riskScore': e.riskScore ?? null,
        'recipient.id': e.recipientId ?? null,
        'recipient.ageDays': recipient ? days(recipient.createdAt, now) : null,
        'recipient.sharesDevice': v.recipient_shares_device,
        'recipient.sharesIp': v.recipient_shares_ip,
      };
    });
    return { features, deviceIds };
  }

  /** Events that follow from an earlier request take that request's address, country and device. */
  private async withOrigins(em: EntityManager, events: FraudEvent[]): Promise<(FraudEvent & { originDeviceId?: string | null })[]> {
    const following = events.filter((e) => e.followsFrom);
    if (!following.length) return events;
    const byType = new Map<string, Map<string, { ip: string | null; deviceId: string | null; ipCountry: string | null }>>();
    for (const type of new Set(following.map((e) => e.followsFrom!))) {
      byType.set(
        type,
        await this.decisions.origins(
          em,
          type,
          following.filter((e) => e.followsFrom === type).map((e) => e.subjectId),
        ),
      );
    }
    return events.map((e) => {
      const origin = e.followsFrom ? byType.get(e.followsFrom)?.get(e.subjectId) : undefined;
      if (!origin) return e;
      return { ...e, ip: e.ip ?? origin.ip ?? undefined, ipCountry: e.ipCountry ?? origin.ipCountry, originDeviceId: origin.deviceId };
    });
  }
}
