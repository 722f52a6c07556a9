import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { serialCursor } from '../common/cursors';
import { Page, pageLimit, toPage } from '../common/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { CreateLabelDto, LabelsQuery } from './dto/labels.dto';
import { FraudErrors } from './fraud.errors';
import { FraudService } from './fraud.service';
import { Label, LabelsRepository, toLabel } from './labels.repository';

/** Admins' ground truth (confirmed takeovers and frauds) beside the chargebacks and lost disputes payments records. */
@Injectable()
export class LabelsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly fraud: FraudService,
    private readonly labels: LabelsRepository,
    private readonly identity: IdentityService,
    private readonly audit: AuditService,
  ) {}

  /** Each admin label is a label of its own (reference `admin:<uuid>`), audited with its note. */
  async add(adminId: string, dto: CreateLabelDto): Promise<Label> {
    return this.tx.run(async (em) => {
      if (!(await this.identity.userExists(em, dto.userId))) throw FraudErrors.userNotFound();
      const reference = `admin:${randomUUID()}`;
      await this.fraud.recordLabel(em, { userId: dto.userId, kind: dto.label, reference, createdBy: adminId, note: dto.note });
      const label = (await this.labels.findByReference(em, reference))!;
      await this.audit.record(em, {
        actorId: adminId,
        action: 'fraud.label_added',
        subjectType: 'user',
        subjectId: dto.userId,
        reason: dto.note,
        data: { labelId: label.id, label: dto.label, reference },
      });
      return label;
    });
  }

  /** Newest first, every kind unless `label` is given. */
  async list(q: LabelsQuery): Promise<Page<Label>> {
    const limit = pageLimit(q);
    const rows = await this.labels.list(this.dataSource, {
      userId: q.userId ?? null,
      kind: q.label ?? null,
      before: serialCursor(q.cursor),
      limit: limit + 1,
    });
    return toPage(rows, limit, toLabel, (r) => [r.seq]);
  }
}
