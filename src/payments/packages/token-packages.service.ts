import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { amountToJson } from '../../common/money';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../../common/pagination';
import { TransactionRunner } from '../../database/transaction-runner';
import { PaymentsErrors } from '../payments.errors';
import { CreateTokenPackageDto, UpdateTokenPackageDto } from './token-package.dto';
import { TokenPackage, TokenPackagesRepository } from './token-packages.repository';

export function packageView(p: TokenPackage) {
  return {
    id: p.id,
    name: p.name,
    priceCents: amountToJson(p.priceCents),
    currency: p.currency,
    credits: amountToJson(p.credits),
    bonusPromo: amountToJson(p.bonusPromo),
  };
}

export function adminPackageView(p: TokenPackage) {
  return { ...packageView(p), active: p.active, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
}

/** Token packages: admin-managed; a purchase copies its package, so edits never change a purchase. */
@Injectable()
export class TokenPackagesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly packages: TokenPackagesRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Cheapest first; `activeOnly` for the public list. */
  async list(q: PageQuery, activeOnly: boolean): Promise<Page<TokenPackage>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 2);
    const packages = await this.packages.list(this.dataSource, { activeOnly, after, limit: limit + 1 });
    return toPage(
      packages,
      limit,
      (p) => p,
      (p) => [p.priceCents.toString(), p.id],
    );
  }

  async get(db: EntityManager | DataSource, id: string): Promise<TokenPackage> {
    const found = await this.packages.find(db, id);
    if (!found) throw PaymentsErrors.packageNotFound();
    return found;
  }

  async create(actorId: string, dto: CreateTokenPackageDto): Promise<TokenPackage> {
    return this.tx.run(async (em) => {
      const created = await this.packages.insert(
        em,
        { ...dto, bonusPromo: dto.bonusPromo ?? 0, active: dto.active ?? true },
        this.clock.now(),
      );
      await this.audit.record(em, {
        actorId,
        action: 'token_package.create',
        subjectType: 'token_package',
        subjectId: created.id,
        data: { after: adminPackageView(created) },
      });
      return created;
    });
  }

  async update(actorId: string, id: string, dto: UpdateTokenPackageDto): Promise<TokenPackage> {
    if (Object.values(dto).every((v) => v === undefined)) throw PaymentsErrors.nothingToChange();
    return this.tx.run(async (em) => {
      const before = await this.packages.lock(em, id);
      if (!before) throw PaymentsErrors.packageNotFound();
      const updated = await this.packages.update(em, id, dto, this.clock.now());
      await this.audit.record(em, {
        actorId,
        action: 'token_package.update',
        subjectType: 'token_package',
        subjectId: id,
        data: { before: adminPackageView(before), after: adminPackageView(updated) },
      });
      return updated;
    });
  }
}
