import { Global, Module } from '@nestjs/common';
import { MailService } from './mail.service';
import { MailboxRepository } from './mailbox.repository';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';

@Global()
@Module({ providers: [OutboxRepository, MailboxRepository, OutboxService, MailService], exports: [OutboxService, MailService] })
export class NotificationsModule {}
