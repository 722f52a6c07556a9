import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { networkOf, throttleScopeOf } from './networks.sql';

export interface RiskSignalsRow {
  has_devices: boolean;
  /** The account's device with the presented token, if it is one of theirs. */
  known_device_id: string | null;
  /** The device cluster of the presented token, whichever account it belongs to. */
  presented_cluster_id: string | null;
  has_networks: boolean;
  known_network: boolean;
  recent_failures: number;
  ip_failed_accounts: number;
}

export interface RiskSignalsQuery {
  userId: string;
  email: string;
  /** Hash of the device token the login presented, if any. */
  deviceTokenHash: Buffer | null;
  ip: string;
  /** Failures count in (since, until]. */
  since: Date;
  until: Date;
}

export interface DeviceSighting {
  userId: string;
  tokenHash: Buffer;
  ip: string;
  userAgent: string | null;
  at: Date;
}

/** devices and known_networks, and the login-risk signals read across them and login_attempts. */
@Injectable()
export class DevicesRepository {
  async riskSignals(db: EntityManager | DataSource, q: RiskSignalsQuery): Promise<RiskSignalsRow> {
    const rows = await queryRows<RiskSignalsRow>(
      db,
      `SELECT
         EXISTS (SELECT 1 FROM devices WHERE user_id = $1) AS has_devices,
         (SELECT id FROM devices WHERE user_id = $1 AND token_hash = $2) AS known_device_id,
         (SELECT COALESCE(cluster_id, id) FROM devices WHERE token_hash = $2) AS presented_cluster_id,
         EXISTS (SELECT 1 FROM known_networks WHERE user_id = $1) AS has_networks,
         EXISTS (SELECT 1 FROM known_networks WHERE user_id = $1 AND network = ${networkOf('$3')}) AS known_network,
         (SELECT count(*)::int FROM login_attempts
           WHERE user_id = $1 AND outcome = 'failure' AND occurred_at > $4 AND occurred_at <= $5) AS recent_failures,
         (SELECT count(DISTINCT email)::int FROM login_attempts
           WHERE ip <<= ${throttleScopeOf('$3')} AND outcome <> 'success' AND occurred_at > $4 AND occurred_at <= $5
             AND email <> $6::citext) AS ip_failed_accounts`,
      [q.userId, q.deviceTokenHash, q.ip, q.since, q.until, q.email],
    );
    return rows[0];
  }

  /** One login at a time per account decides whether a device is the account's first. */
  async lockUserDevices(em: EntityManager, userId: string): Promise<void> {
    await queryRows(em, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`devices:${userId}`]);
  }

  /** Notes a sighting of a device the user already has: its id, or null when the token is not one of theirs. */
  async touch(em: EntityManager, d: DeviceSighting): Promise<string | null> {
    const rows = await queryRows<{ id: string }>(
      em,
      'UPDATE devices SET last_seen_at = $3, last_ip = $4, user_agent = $5 WHERE user_id = $1 AND token_hash = $2 RETURNING id',
      [d.userId, d.tokenHash, d.at, d.ip, d.userAgent],
    );
    return rows[0]?.id ?? null;
  }

  async hasAny(em: EntityManager, userId: string): Promise<boolean> {
    const [{ had }] = await queryRows<{ had: boolean }>(em, 'SELECT EXISTS (SELECT 1 FROM devices WHERE user_id = $1) AS had', [userId]);
    return had;
  }

  /** A new device; it joins the cluster of the device whose token the login presented, if another account's. */
  async insert(em: EntityManager, d: DeviceSighting, presentedTokenHash: Buffer | null): Promise<string> {
    const [row] = await queryRows<{ id: string }>(
      em,
      `INSERT INTO devices (user_id, token_hash, created_at, last_seen_at, last_ip, user_agent, cluster_id)
       VALUES ($1, $2, $3, $3, $4, $5, (SELECT COALESCE(cluster_id, id) FROM devices WHERE token_hash = $6 AND user_id <> $1))
       RETURNING id`,
      [d.userId, d.tokenHash, d.at, d.ip, d.userAgent, presentedTokenHash],
    );
    return row.id;
  }

  /** Which device a session was opened on (read back by the fraud signals). */
  async linkSession(em: EntityManager, sessionId: string, deviceId: string): Promise<void> {
    await queryRows(em, 'INSERT INTO session_devices (session_id, device_id) VALUES ($1, $2)', [sessionId, deviceId]);
  }

  /** Remembers the network of `ip` (see networks.sql.ts) as one the user signs in from. */
  async rememberNetwork(em: EntityManager, userId: string, ip: string, at: Date): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO known_networks (user_id, network, first_seen_at, last_seen_at) VALUES ($1, ${networkOf('$2')}, $3, $3)
       ON CONFLICT (user_id, network) DO UPDATE SET last_seen_at = $3`,
      [userId, ip, at],
    );
  }
}
