import { Global, Module } from '@nestjs/common';
import { AdminAuditController } from './admin-audit.controller';
import { AuditService } from './audit.service';

@Global()
@Module({ providers: [AuditService], controllers: [AdminAuditController], exports: [AuditService] })
export class AuditModule {}
