import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { DevPagesController } from './dev-pages.controller';
import { DevController } from './dev.controller';

@Module({ imports: [JobsModule, NotificationsModule], controllers: [DevController, DevPagesController] })
export class DevModule {}
