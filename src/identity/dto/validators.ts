import { registerDecorator, ValidationOptions } from 'class-validator';

/** Length in characters (code points), not UTF-16 units, and no control characters (NUL never reaches PostgreSQL). */
export function IsPlainText(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isPlainText',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || /[\p{Cc}\p{Cs}]/u.test(value)) return false;
          const n = [...value].length;
          return n >= min && n <= max;
        },
        defaultMessage: (args) => `${args?.property} must be ${min}-${max} characters of text without control characters`,
      },
    });
  };
}

/** Opaque tokens this service hands out are base64url. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{16,200}$/;
