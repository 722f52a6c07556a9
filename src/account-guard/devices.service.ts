import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { addDays } from '../common/time';
import { CredentialAttempt, UserRecord } from '../identity/identity.hooks';
import { hashToken, newOpaqueToken } from '../identity/tokens';
import { AccountGuardService } from './account-guard.service';
import { DevicesRepository } from './devices.repository';
import { RiskSignals } from './login-risk.policy';
import { SecurityEventsService } from './security-events.service';

/** The login-risk signals, and the account's device the login presented (its token is one of theirs). */
export interface LoginSignals extends RiskSignals {
  /** The device cluster of the presented token (any account's; see migration 1763900017000), for the fraud rules. */
  deviceClusterId: string | null;
}

/** Devices (by the opaque device token a login hands out) and the networks each account signs in from. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly devices: DevicesRepository,
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
  ) {}

  async signals(user: UserRecord, attempt: CredentialAttempt): Promise<LoginSignals> {
    const now = this.clock.now();
    const r = await this.devices.riskSignals(this.dataSource, {
      userId: user.id,
      email: user.email,
      deviceTokenHash: attempt.deviceToken ? hashToken(attempt.deviceToken) : null,
      ip: attempt.ip,
      since: addDays(now, -1),
      until: now,
    });
    return {
      hasDevices: r.has_devices,
      knownDevice: r.known_device_id !== null,
      deviceClusterId: r.presented_cluster_id,
      hasNetworks: r.has_networks,
      knownNetwork: r.known_network,
      recentFailures: r.recent_failures,
      ipFailedAccounts: r.ip_failed_accounts,
    };
  }

  /**
   * In the session-creating transaction: recognises the presented device or registers a new one
   * (answering its token), links the session to it, and remembers the network. A new device on an
   * account that already had one starts the 72-hour cooling period and is notified.
   */
  async sessionStarted(
    em: EntityManager,
    attempt: CredentialAttempt,
    user: UserRecord,
    sessionId: string,
  ): Promise<{ deviceToken: string }> {
    const now = this.clock.now();
    const sighting = { userId: user.id, ip: attempt.ip, userAgent: attempt.userAgent ?? null, at: now };
    await this.devices.lockUserDevices(em, user.id);
    let deviceToken = attempt.deviceToken;
    const presented = deviceToken ? hashToken(deviceToken) : null;
    let deviceId = presented ? await this.devices.touch(em, { ...sighting, tokenHash: presented }) : null;
    if (!deviceId || !deviceToken) {
      const had = await this.devices.hasAny(em, user.id);
      deviceToken = newOpaqueToken();
      deviceId = await this.devices.insert(em, { ...sighting, tokenHash: hashToken(deviceToken) }, presented);
      if (had) {
        await this.guard.startCooling(em, user.id, 'new_device');
        await this.events.record(em, user.id, 'new_device_login', { ip: attempt.ip, data: { userAgent: attempt.userAgent ?? null } });
      }
    }
    await this.devices.linkSession(em, sessionId, deviceId);
    await this.devices.rememberNetwork(em, user.id, attempt.ip, now);
    return { deviceToken };
  }
}
