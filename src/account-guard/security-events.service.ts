import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { serialCursor } from '../common/cursors';
import { Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { MailService } from '../notifications/mail.service';
import { securityNotice } from './account-guard.mails';
import { SecurityEventsRepository } from './security-events.repository';

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
    private readonly securityEvents: SecurityEventsRepository,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  /** Records in the caller's transaction; the notice (if the kind has one) commits with it. */
  async record(
    em: EntityManager,
    userId: string,
    kind: SecurityEventKind,
    opts: { ip?: string; data?: Record<string, unknown> } = {},
  ): Promise<void> {
    const email = await this.securityEvents.insert(em, {
      userId,
      occurredAt: this.clock.now(),
      kind,
      ip: opts.ip ?? null,
      data: opts.data ?? {},
    });
    const notice = securityNotice(kind, this.config.security, opts.data);
    if (notice && email) {
      const where = opts.ip ? `\n\nFrom IP address ${opts.ip}.` : '';
      await this.mail.send(em, {
        to: email,
        subject: notice.subject,
        text: notice.text + where,
        data: { kind: `security.${kind}`, ...opts.data },
      });
    }
  }

  async list(userId: string, q: PageQuery): Promise<Page<SecurityEventView>> {
    const limit = pageLimit(q);
    const after = serialCursor(q.cursor);
    const rows = await this.securityEvents.listOf(this.dataSource, userId, after, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => ({ id: r.id, kind: r.kind, occurredAt: r.occurred_at.toISOString(), ip: r.ip, data: r.data }),
      (r) => [r.seq],
    );
  }
}
