import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

type Db = EntityManager | DataSource;

export interface MailboxRow {
  id: string;
  recipient: string;
  subject: string;
  body: string;
  data: unknown;
  created_at: Date;
}

/** dev_mailbox: where emails go when no SMTP server is configured (recipients stored in lower case). */
@Injectable()
export class MailboxRepository {
  async insert(db: Db, m: { to: string; subject: string; text: string; data: Record<string, unknown> }): Promise<void> {
    await queryRows(db, 'INSERT INTO dev_mailbox (recipient, subject, body, data) VALUES (lower($1), $2, $3, $4::jsonb)', [
      m.to,
      m.subject,
      m.text,
      JSON.stringify(m.data),
    ]);
  }

  /** The newest 200 messages to `address`, newest first. */
  listFor(db: Db, address: string): Promise<MailboxRow[]> {
    return queryRows<MailboxRow>(
      db,
      'SELECT id, recipient, subject, body, data, created_at FROM dev_mailbox WHERE recipient = lower($1) ORDER BY seq DESC LIMIT 200',
      [address],
    );
  }
}
