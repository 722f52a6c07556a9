import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { amountToJson } from '../../common/money';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../../common/pagination';
import { TransactionRunner } from '../../database/transaction-runner';
import { PaymentsErrors } from '../payments.errors';
import { CreateTokenPackageDto, UpdateTokenPackageDto } from './token-package.dto';
import { PackageAudience, TokenPackage, TokenPackageFields, TokenPackagesRepository } from './token-packages.repository';

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
  return {
    ...packageView(p),
    audience: p.audience,
    active: p.active,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** A reseller package carries no bonus: PROMO is never sold through resellers. */
function assertSellable(p: Pick<TokenPackageFields, 'audience' | 'bonusPromo'>): void {
  if (p.audience === 'reseller' && p.bonusPromo !== 0) throw PaymentsErrors.resellerPackageWithPromo();
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

  /** Cheapest first; the lists buyers see are the active packages of one audience, the admins' list has them all. */
  async list(q: PageQuery, filter: { activeOnly: boolean; audience: PackageAudience | null }): Promise<Page<TokenPackage>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 2);
    const packages = await this.packages.list(this.dataSource, { ...filter, after, limit: limit + 1 });
    return toPage(
      packages,
      limit,
      (p) => p,
      (p) => [p.priceCents.toString(), p.id],
    );
  }

  /**
   * A package on sale to `audience`. A package of the other audience is 404 like one that does not
   * exist (a reseller package is not offered to the public, nor a public one as wholesale); a retired
   * one is 409 INVALID_STATE.
   */
  async forSale(db: EntityManager | DataSource, id: string, audience: PackageAudience): Promise<TokenPackage> {
    const found = await this.packages.find(db, id);
    if (!found || found.audience !== audience) throw PaymentsErrors.packageNotFound();
    if (!found.active) throw PaymentsErrors.packageNotOnSale();
    return found;
  }

  async create(actorId: string, dto: CreateTokenPackageDto): Promise<TokenPackage> {
    const fields = { ...dto, bonusPromo: dto.bonusPromo ?? 0, active: dto.active ?? true, audience: dto.audience ?? 'public' };
    assertSellable(fields);
    return this.tx.run(async (em) => {
      const created = await this.packages.insert(em, fields, this.clock.now());
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
      assertSellable({ audience: dto.audience ?? before.audience, bonusPromo: dto.bonusPromo ?? Number(before.bonusPromo) });
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
