import { Global, Module } from '@nestjs/common';
import { MailService } from './mail.service';
import { OutboxService } from './outbox.service';

@Global()
@Module({ providers: [OutboxService, MailService], exports: [OutboxService, MailService] })
export class NotificationsModule {}
