import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { MailService } from '../notifications/mail.service';

export type SecurityEventKind =
  | 'new_device_login'
  | 'step_up_required'
  | 'account_locked'
  | 'password_changed'
  | 'password_reset'
  | 'email_changed'
  | 'totp_enabled'
  | 'totp_disabled'
  | 'refresh_token_reuse'
  | 'account_frozen'
  | 'unfreeze_requested'
  | 'account_held'
  | 'account_released';

/** The events the account holder is told about by email, and what the email says. */
const NOTICES: Partial<Record<SecurityEventKind, { subject: string; text: string }>> = {
  new_device_login: {
    subject: 'New sign-in to your Bazaar account',
    text: 'Your account was just signed in to from a new device. For 72 hours no credits can leave the account. If this was not you, reset your password and freeze your account now.',
  },
  account_locked: {
    subject: 'Your Bazaar account was locked after failed sign-ins',
    text: 'Several wrong passwords were entered for your account, so sign-ins are paused for a while. If this was not you, consider resetting your password.',
  },
  password_changed: { subject: 'Your Bazaar password was changed', text: 'Your password was changed and your other sessions were signed out. If this was not you, reset your password now.' },
  password_reset: {
    subject: 'Your Bazaar password was reset',
    text: 'Your password was reset and every session was signed out. For 5 days no credits can leave the account. If this was not you, contact support at once.',
  },
  email_changed: { subject: 'Your Bazaar email address was changed', text: 'The email address of your account was changed. For 5 days no credits can leave the account.' },
  totp_enabled: { subject: 'Two-factor authentication is on', text: 'An authenticator app now protects your Bazaar account.' },
  totp_disabled: {
    subject: 'Two-factor authentication was turned off',
    text: 'Two-factor authentication was turned off for your account. For 7 days no credits can leave the account. If this was not you, reset your password and freeze your account now.',
  },
  refresh_token_reuse: {
    subject: 'A stolen sign-in may have been used',
    text: 'An old sign-in token of your account was presented again, so that session was signed out everywhere. If you did not expect this, change your password.',
  },
  account_frozen: { subject: 'Your Bazaar account is frozen', text: 'No credits can leave your account until you unfreeze it.' },
  unfreeze_requested: {
    subject: 'Your Bazaar account will be unfrozen',
    text: 'Someone signed in to your account asked to unfreeze it; this takes effect in 24 hours. If this was not you, freeze the account again and reset your password.',
  },
  account_held: { subject: 'Your Bazaar account is on hold', text: 'Our team has put your account on hold. No credits can leave it until the hold is released. Contact support to learn more.' },
  account_released: { subject: 'The hold on your Bazaar account was released', text: 'The hold on your account was released.' },
};

export interface SecurityEventView {
  id: string;
  kind: SecurityEventKind;
  occurredAt: string;
  ip: string | null;
  data: Record<string, unknown>;
}

/** The append-only security history of each account, with email notices through the outbox. */
@Injectable()
export class SecurityEventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly mail: MailService,
  ) {}

  /** Records in the caller's transaction; the notice (if the kind has one) commits with it. */
  async record(em: EntityManager, userId: string, kind: SecurityEventKind, opts: { ip?: string; data?: Record<string, unknown> } = {}): Promise<void> {
    const rows: { email: string }[] = await em.query(
      `INSERT INTO security_events (user_id, occurred_at, kind, ip, data) VALUES ($1, $2, $3, $4, $5::jsonb)
       RETURNING (SELECT email FROM users WHERE id = $1) AS email`,
      [userId, this.clock.now(), kind, opts.ip ?? null, JSON.stringify(opts.data ?? {})],
    );
    const notice = NOTICES[kind];
    if (notice && rows[0]?.email) {
      const where = opts.ip ? `\n\nFrom IP address ${opts.ip}.` : '';
      await this.mail.send(em, { to: rows[0].email, subject: notice.subject, text: notice.text + where, data: { kind: `security.${kind}`, ...opts.data } });
    }
  }

  async list(userId: string, q: PageQuery): Promise<Page<SecurityEventView>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 1)?.[0];
    if (after !== undefined && !/^\d{1,18}$/.test(String(after))) {
      throw new AppError('VALIDATION_FAILED', 'cursor is not valid', {}, [{ field: 'cursor', message: 'is not valid' }]);
    }
    const rows: { id: string; kind: SecurityEventKind; occurred_at: Date; ip: string | null; data: Record<string, unknown> }[] = await this.dataSource.query(
      `SELECT id, kind, occurred_at, host(ip) AS ip, data FROM security_events
       WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [userId, after ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => ({ id: String(r.id), kind: r.kind, occurredAt: r.occurred_at.toISOString(), ip: r.ip, data: r.data }),
      (r) => [String(r.id)],
    );
  }
}
