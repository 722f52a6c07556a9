import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { toAmount } from '../../common/money';
import { queryRows } from '../../database/sql';

/** Who a package is sold to: everyone (GET /token-packages), or resellers only (wholesale, into reseller stock). */
export const PACKAGE_AUDIENCES = ['public', 'reseller'] as const;
export type PackageAudience = (typeof PACKAGE_AUDIENCES)[number];

export interface TokenPackage {
  id: string;
  name: string;
  audience: PackageAudience;
  priceCents: bigint;
  currency: string;
  credits: bigint;
  bonusPromo: bigint;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A package's fields as an admin sets them (validated by the DTOs). */
export interface TokenPackageFields {
  name: string;
  audience: PackageAudience;
  priceCents: number;
  currency: string;
  credits: number;
  bonusPromo: number;
  active: boolean;
}

export interface TokenPackageRow {
  id: string;
  name: string;
  audience: PackageAudience;
  price_cents: string;
  currency: string;
  credits: string;
  bonus_promo: string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export const toTokenPackage = (r: TokenPackageRow): TokenPackage => ({
  id: r.id,
  name: r.name,
  audience: r.audience,
  priceCents: toAmount(r.price_cents),
  currency: r.currency,
  credits: toAmount(r.credits),
  bonusPromo: toAmount(r.bonus_promo),
  active: r.active,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** `token_packages`. */
@Injectable()
export class TokenPackagesRepository {
  /** Cheapest first, after the (price_cents, id) key `after`; `activeOnly` and one `audience` for the lists buyers see. */
  async list(
    db: EntityManager | DataSource,
    q: { activeOnly: boolean; audience: PackageAudience | null; after: unknown[] | undefined; limit: number },
  ): Promise<TokenPackage[]> {
    const rows = await queryRows<TokenPackageRow>(
      db,
      `SELECT * FROM token_packages
       WHERE ($1::boolean IS FALSE OR active) AND ($5::text IS NULL OR audience = $5)
         AND ($2::bigint IS NULL OR (price_cents, id) > ($2::bigint, $3::uuid))
       ORDER BY price_cents, id LIMIT $4`,
      [q.activeOnly, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit, q.audience],
    );
    return rows.map(toTokenPackage);
  }

  async find(db: EntityManager | DataSource, id: string): Promise<TokenPackage | undefined> {
    const rows = await queryRows<TokenPackageRow>(db, 'SELECT * FROM token_packages WHERE id = $1', [id]);
    return rows[0] && toTokenPackage(rows[0]);
  }

  /** Reads a package and locks its row until `em`'s transaction ends. */
  async lock(em: EntityManager, id: string): Promise<TokenPackage | undefined> {
    const [row] = await queryRows<TokenPackageRow>(em, 'SELECT * FROM token_packages WHERE id = $1 FOR UPDATE', [id]);
    return row && toTokenPackage(row);
  }

  async insert(em: EntityManager, p: TokenPackageFields, now: Date): Promise<TokenPackage> {
    const [row] = await queryRows<TokenPackageRow>(
      em,
      `INSERT INTO token_packages (name, price_cents, currency, credits, bonus_promo, active, created_at, updated_at, audience)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING *`,
      [p.name, p.priceCents, p.currency, p.credits, p.bonusPromo, p.active, now, p.audience],
    );
    return toTokenPackage(row);
  }

  /** Changes the fields given; the others keep their values. */
  async update(em: EntityManager, id: string, p: Partial<TokenPackageFields>, now: Date): Promise<TokenPackage> {
    const [row] = await queryRows<TokenPackageRow>(
      em,
      `UPDATE token_packages SET
         name = COALESCE($2, name), price_cents = COALESCE($3, price_cents), currency = COALESCE($4, currency),
         credits = COALESCE($5, credits), bonus_promo = COALESCE($6, bonus_promo), active = COALESCE($7, active),
         audience = COALESCE($9, audience), updated_at = $8
       WHERE id = $1 RETURNING *`,
      [
        id,
        p.name ?? null,
        p.priceCents ?? null,
        p.currency ?? null,
        p.credits ?? null,
        p.bonusPromo ?? null,
        p.active ?? null,
        now,
        p.audience ?? null,
      ],
    );
    return toTokenPackage(row);
  }
}
