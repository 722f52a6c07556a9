import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { AppError, notFound } from '../../common/errors';
import { amountToJson, toAmount } from '../../common/money';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../../common/pagination';
import { TransactionRunner } from '../../database/transaction-runner';
import { queryRows } from '../../database/sql';
import { CreateTokenPackageDto, UpdateTokenPackageDto } from './token-package.dto';

export interface TokenPackage {
  id: string;
  name: string;
  priceCents: bigint;
  currency: string;
  credits: bigint;
  bonusPromo: bigint;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type Row = Record<string, unknown>;

const toPackage = (r: Row): TokenPackage => ({
  id: r.id as string,
  name: r.name as string,
  priceCents: toAmount(r.price_cents),
  currency: r.currency as string,
  credits: toAmount(r.credits),
  bonusPromo: toAmount(r.bonus_promo),
  active: r.active as boolean,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
});

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
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Cheapest first; `activeOnly` for the public list. */
  async list(q: PageQuery, activeOnly: boolean): Promise<Page<TokenPackage>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 2);
    const rows = await queryRows(
      this.dataSource,
      `SELECT * FROM token_packages
       WHERE ($1::boolean IS FALSE OR active) AND ($2::bigint IS NULL OR (price_cents, id) > ($2::bigint, $3::uuid))
       ORDER BY price_cents, id LIMIT $4`,
      [activeOnly, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return toPage(rows, limit, toPackage, (r) => [String(r.price_cents), r.id as string]);
  }

  async get(db: EntityManager | DataSource, id: string): Promise<TokenPackage> {
    const rows = await queryRows(db, 'SELECT * FROM token_packages WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('Token package');
    return toPackage(rows[0]);
  }

  async create(actorId: string, dto: CreateTokenPackageDto): Promise<TokenPackage> {
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      const [row] = await queryRows(
        em,
        `INSERT INTO token_packages (name, price_cents, currency, credits, bonus_promo, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *`,
        [dto.name, dto.priceCents, dto.currency, dto.credits, dto.bonusPromo ?? 0, dto.active ?? true, now],
      );
      const created = toPackage(row);
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
    if (Object.values(dto).every((v) => v === undefined)) {
      throw new AppError('VALIDATION_FAILED', 'Nothing to change', {}, [{ field: 'body', message: 'must name at least one field' }]);
    }
    return this.tx.run(async (em) => {
      const [before] = await queryRows(em, 'SELECT * FROM token_packages WHERE id = $1 FOR UPDATE', [id]);
      if (!before) throw notFound('Token package');
      const [row] = await queryRows(
        em,
        `UPDATE token_packages SET
           name = COALESCE($2, name), price_cents = COALESCE($3, price_cents), currency = COALESCE($4, currency),
           credits = COALESCE($5, credits), bonus_promo = COALESCE($6, bonus_promo), active = COALESCE($7, active),
           updated_at = $8
         WHERE id = $1 RETURNING *`,
        [
          id,
          dto.name ?? null,
          dto.priceCents ?? null,
          dto.currency ?? null,
          dto.credits ?? null,
          dto.bonusPromo ?? null,
          dto.active ?? null,
          this.clock.now(),
        ],
      );
      const updated = toPackage(row);
      await this.audit.record(em, {
        actorId,
        action: 'token_package.update',
        subjectType: 'token_package',
        subjectId: id,
        data: { before: adminPackageView(toPackage(before)), after: adminPackageView(updated) },
      });
      return updated;
    });
  }
}
