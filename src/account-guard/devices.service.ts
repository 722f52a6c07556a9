import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { queryRows } from '../database/sql';
import { CredentialAttempt, UserRecord } from '../identity/identity.hooks';
import { hashToken, newOpaqueToken } from '../identity/tokens';
import { AccountGuardService } from './account-guard.service';
import { RiskSignals } from './login-risk';
import { networkOf, throttleScopeOf } from './networks';
import { SecurityEventsService } from './security-events.service';

const DAY_MS = 86400_000;

/** Devices (by the opaque device token a login hands out) and the networks each account signs in from. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
  ) {}

  async signals(user: UserRecord, attempt: CredentialAttempt): Promise<RiskSignals> {
    const now = this.clock.now();
    const rows: {
      has_devices: boolean;
      known_device: boolean;
      has_networks: boolean;
      known_network: boolean;
      recent_failures: number;
      ip_failed_accounts: number;
    }[] = await this.dataSource.query(
      `SELECT
         EXISTS (SELECT 1 FROM devices WHERE user_id = $1) AS has_devices,
         EXISTS (SELECT 1 FROM devices WHERE user_id = $1 AND token_hash = $2) AS known_device,
         EXISTS (SELECT 1 FROM known_networks WHERE user_id = $1) AS has_networks,
         EXISTS (SELECT 1 FROM known_networks WHERE user_id = $1 AND network = ${networkOf('$3')}) AS known_network,
         (SELECT count(*)::int FROM login_attempts
           WHERE user_id = $1 AND outcome = 'failure' AND occurred_at > $4 AND occurred_at <= $5) AS recent_failures,
         (SELECT count(DISTINCT email)::int FROM login_attempts
           WHERE ip <<= ${throttleScopeOf('$3')} AND outcome <> 'success' AND occurred_at > $4 AND occurred_at <= $5
             AND email <> $6::citext) AS ip_failed_accounts`,
      [user.id, attempt.deviceToken ? hashToken(attempt.deviceToken) : null, attempt.ip, new Date(now.getTime() - DAY_MS), now, user.email],
    );
    const r = rows[0];
    return {
      hasDevices: r.has_devices,
      knownDevice: r.known_device,
      hasNetworks: r.has_networks,
      knownNetwork: r.known_network,
      recentFailures: r.recent_failures,
      ipFailedAccounts: r.ip_failed_accounts,
    };
  }

  /**
   * In the session-creating transaction: recognises the presented device or registers a new one
   * (answering its token), and remembers the network. A new device on an account that already had one
   * starts the 72-hour cooling period and is notified.
   */
  async sessionStarted(em: EntityManager, attempt: CredentialAttempt, user: UserRecord): Promise<{ deviceToken: string }> {
    const now = this.clock.now();
    // One login at a time per account decides whether a device is the account's first.
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`devices:${user.id}`]);
    const known = attempt.deviceToken
      ? await queryRows(
          em,
          'UPDATE devices SET last_seen_at = $3, last_ip = $4, user_agent = $5 WHERE user_id = $1 AND token_hash = $2 RETURNING id',
          [user.id, hashToken(attempt.deviceToken), now, attempt.ip, attempt.userAgent ?? null],
        )
      : [];
    let deviceToken = attempt.deviceToken;
    if (!known.length || !deviceToken) {
      const [{ had }] = await em.query('SELECT EXISTS (SELECT 1 FROM devices WHERE user_id = $1) AS had', [user.id]);
      deviceToken = newOpaqueToken();
      await em.query(
        'INSERT INTO devices (user_id, token_hash, created_at, last_seen_at, last_ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5)',
        [user.id, hashToken(deviceToken), now, attempt.ip, attempt.userAgent ?? null],
      );
      if (had) {
        await this.guard.startCooling(em, user.id, 'new_device');
        await this.events.record(em, user.id, 'new_device_login', { ip: attempt.ip, data: { userAgent: attempt.userAgent ?? null } });
      }
    }
    await em.query(
      `INSERT INTO known_networks (user_id, network, first_seen_at, last_seen_at) VALUES ($1, ${networkOf('$2')}, $3, $3)
       ON CONFLICT (user_id, network) DO UPDATE SET last_seen_at = $3`,
      [user.id, attempt.ip, now],
    );
    return { deviceToken };
  }
}
