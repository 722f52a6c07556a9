import { Injectable, OnModuleInit } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { MailboxRepository } from './mailbox.repository';
import { OutboxService } from './outbox.service';

export interface Email {
  to: string;
  subject: string;
  text: string;
  /** Machine-readable extras (a token, a code) kept with dev-mailbox messages for tests and demos. */
  data?: Record<string, unknown>;
}

/**
 * Sends email through the outbox: SMTP when SMTP_URL is set, otherwise into the dev mailbox table
 * (readable at GET /dev/mailbox/:email when DEV_ROUTES=true).
 */
@Injectable()
export class MailService implements OnModuleInit {
  private transport?: Transporter;

  constructor(
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly mailbox: MailboxRepository,
  ) {}

  onModuleInit(): void {
    if (this.config.smtpUrl) this.transport = createTransport(this.config.smtpUrl);
    this.outbox.registerHandler({ kind: 'email', deliver: (p) => this.deliver(p as unknown as Email) });
  }

  /** Queues an email in the caller's transaction. */
  send(em: EntityManager | undefined, email: Email): Promise<void> {
    return this.outbox.add(em, 'email', email as unknown as Record<string, unknown>);
  }

  private async deliver(email: Email): Promise<void> {
    if (this.transport) {
      await this.transport.sendMail({ from: this.config.mailFrom, to: email.to, subject: email.subject, text: email.text });
      return;
    }
    await this.mailbox.insert(this.dataSource, { to: email.to, subject: email.subject, text: email.text, data: email.data ?? {} });
  }

  async devMailbox(address: string): Promise<{ id: string; to: string; subject: string; text: string; data: unknown; sentAt: Date }[]> {
    await this.outbox.flush();
    const rows = await this.mailbox.listFor(this.dataSource, address);
    return rows.map((r) => ({ id: r.id, to: r.recipient, subject: r.subject, text: r.body, data: r.data, sentAt: r.created_at }));
  }
}
