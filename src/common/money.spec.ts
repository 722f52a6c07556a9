import fc from 'fast-check';
import { AppError } from './errors';
import { amountToJson, MAX_AMOUNT, toAmount } from './money';

describe('toAmount', () => {
  it('round-trips every safe integer through bigint, string and JSON', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(toAmount(n)).toBe(BigInt(n));
        expect(toAmount(String(n))).toBe(BigInt(n));
        expect(amountToJson(BigInt(n))).toBe(n);
      }),
    );
  });

  it.each([1.5, NaN, Infinity, '1e3', '12abc', '', null, undefined, {}, Number.MAX_SAFE_INTEGER + 2, (MAX_AMOUNT + 1n).toString()])(
    'rejects %p with VALIDATION_FAILED',
    (bad) => {
      expect(() => toAmount(bad)).toThrow(AppError);
      try {
        toAmount(bad);
      } catch (err) {
        expect((err as AppError).code).toBe('VALIDATION_FAILED');
      }
    },
  );
});
