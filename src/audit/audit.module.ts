import { Global, Module } from '@nestjs/common';
import { AdminAuditController } from './admin-audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Global()
@Module({ providers: [AuditRepository, AuditService], controllers: [AdminAuditController], exports: [AuditService] })
export class AuditModule {}
