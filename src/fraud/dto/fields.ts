import { ValidateIf } from 'class-validator';

export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** An optional field that, when present, must be valid: unlike `@IsOptional()`, null is refused. */
export const Given = (): PropertyDecorator => ValidateIf((_: object, value: unknown) => value !== undefined);
