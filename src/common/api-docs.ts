import { Param, Type } from '@nestjs/common';
import { ApiParam, ApiProperty } from '@nestjs/swagger';
import { idPipe } from './id.pipe';

export const EXAMPLE_ID = '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b';
export const EXAMPLE_TIME = '2025-11-20T10:15:30.000Z';

/**
 * A path id: validated as a UUID (VALIDATION_FAILED naming it otherwise) and documented as one, so the
 * OpenAPI format and the check cannot drift apart.
 */
export const IdParam =
  (name = 'id', description?: string): ParameterDecorator =>
  (target, key, index) => {
    Param(name, idPipe(name))(target, key, index);
    const descriptor = Object.getOwnPropertyDescriptor(target, key!)!;
    ApiParam({ name, type: String, format: 'uuid', example: EXAMPLE_ID, description })(target, key!, descriptor);
  };

/** The OpenAPI schema of a `{items, nextCursor}` page of `item` (common/pagination.ts). */
export function PageOf<T>(
  item: Type<T>,
  name = `${item.name.replace(/(Dto|View)$/, '')}Page`,
): Type<{ items: T[]; nextCursor: string | null }> {
  class Page {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty({ type: String, nullable: true, description: 'pass as `cursor` for the next page; null on the last page', example: null })
    nextCursor: string | null;
  }
  Object.defineProperty(Page, 'name', { value: name });
  return Page;
}
