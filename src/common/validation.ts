import { applyDecorators, ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';
import { AppError, FieldError } from './errors';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

const NUL = '\u0000';
const shown = (key: string) => key.replaceAll(NUL, '\\u0000');

/**
 * Keys named like members of every object (`constructor`, `toString`, `__proto__`, ...) or of every
 * class (`prototype`): no DTO has such a field, and class-validator's whitelist would take them for
 * declared ones.
 */
const OBJECT_MEMBERS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/**
 * The first string (or object key) holding U+0000, or the first key named like a built-in object
 * member, in a request's value, as a field error. Walked with a stack of its own, so that no nesting
 * depth can overflow the call stack.
 */
function refusedField(value: unknown, root: string | undefined): FieldError | undefined {
  const stack: [unknown, string][] = [[value, root ?? '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes(NUL)) return { field: path, message: `${path} must not contain the NUL character (U+0000)` };
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        const at = path ? `${path}.${shown(key)}` : shown(key);
        if (key.includes(NUL)) return { field: at, message: `${at} must not contain the NUL character (U+0000)` };
        if (OBJECT_MEMBERS.has(key)) return { field: at, message: `property ${at} should not exist` };
        stack.push([(v as Record<string, unknown>)[key], at]);
      }
    }
  }
  return undefined;
}

/**
 * Unknown fields are rejected, types are checked, failures become VALIDATION_FAILED. First, the one
 * rule for every string of a body, query or path, whatever its DTO: PostgreSQL text cannot hold
 * U+0000, so a NUL anywhere is refused before anything is transformed or stored; and keys named like
 * built-in object members are refused as the unknown fields they are.
 */
class RequestValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const refused = refusedField(value, metadata.data);
      if (refused) throw new AppError('VALIDATION_FAILED', refused.message, {}, [refused]);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** The global pipe (and the login guard's, which runs before pipes). */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return new AppError('VALIDATION_FAILED', list.map((e) => e.message).join('; ') || 'Invalid request', {}, list);
    },
  });
}

/**
 * A UUID field, taken in the form PostgreSQL returns (lower case), so that ids from a request compare
 * equal to the same ids read back from the database.
 */
export const IsId = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value)),
    IsUUID(),
  );
