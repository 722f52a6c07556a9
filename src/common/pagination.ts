import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppError } from './errors';

export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'items per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ maxLength: 500, description: "the previous page's nextCursor (opaque)" })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url of a JSON array of the sort key of the last item. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === arity && key.every((k) => ['string', 'number'].includes(typeof k))) return key;
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not valid', {}, [{ field: 'cursor', message: 'is not valid' }]);
}

export function pageLimit(q: PageQuery): number {
  return q.limit ?? 50;
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, key: (r: R) => unknown[]): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items: items.map(map), nextCursor: more ? encodeCursor(key(items[items.length - 1])) : null };
}
