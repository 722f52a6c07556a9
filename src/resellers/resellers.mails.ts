import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { IdentityService } from '../identity/identity.service';
import { MailService } from '../notifications/mail.service';

/** What the program tells an applicant or reseller; `kind` is `data.kind` of the message (dev mailbox, tests). */
export type ResellerMailKind =
  | 'reseller.application_submitted'
  | 'reseller.application_first_approved'
  | 'reseller.application_approved'
  | 'reseller.application_rejected'
  | 'reseller.application_withdrawn'
  | 'reseller.suspended'
  | 'reseller.reinstated'
  | 'reseller.revoked'
  | 'reseller.renewed';

const TEXT: Record<ResellerMailKind, { subject: string; text: string }> = {
  'reseller.application_submitted': {
    subject: 'We received your reseller application',
    text: 'Your application to become a Bazaar reseller is in. Two admins review every application; we will write when it is decided.',
  },
  'reseller.application_first_approved': {
    subject: 'Your reseller application passed its first review',
    text: 'One admin approved your reseller application. A second admin reviews it before it is decided.',
  },
  'reseller.application_approved': {
    subject: 'You are a Bazaar reseller',
    text: 'Your reseller application is approved. Your first weeks are a probation with lower order limits, and the program vets every reseller again periodically.',
  },
  'reseller.application_rejected': {
    subject: 'Your reseller application was not approved',
    text: 'Your application to become a Bazaar reseller was not approved.',
  },
  'reseller.application_withdrawn': {
    subject: 'You withdrew your reseller application',
    text: 'Your reseller application is withdrawn. You may apply again at any time.',
  },
  'reseller.suspended': {
    subject: 'Your reseller account is suspended',
    text: 'Your reseller account is suspended: it takes no new orders. Orders already open can still be completed or resolved.',
  },
  'reseller.reinstated': {
    subject: 'Your reseller account is active again',
    text: 'Your reseller account is reinstated and takes orders again.',
  },
  'reseller.revoked': {
    subject: 'Your reseller account is closed',
    text: 'Your place in the reseller program has been revoked. Orders already open can still be completed or resolved.',
  },
  'reseller.renewed': {
    subject: 'Your reseller vetting is renewed',
    text: 'An admin completed your periodic re-vetting; your reseller account stays in the program.',
  },
};

/** Emails to applicants and resellers, queued in the caller's transaction (outbox). */
@Injectable()
export class ResellerMailer {
  constructor(
    private readonly identity: IdentityService,
    private readonly mail: MailService,
  ) {}

  async send(em: EntityManager, userId: string, kind: ResellerMailKind, data: Record<string, unknown>): Promise<void> {
    const user = await this.identity.getUser(userId, em);
    await this.mail.send(em, { to: user.email, ...TEXT[kind], data: { kind, ...data } });
  }
}
