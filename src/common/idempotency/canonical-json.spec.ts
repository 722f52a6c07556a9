import { canonicalJson, IdempotencyService } from './idempotency.service';

describe('request hashing for idempotency', () => {
  it('ignores key order but not values', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(canonicalJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(IdempotencyService.hash('POST', '/x', { a: 1 })).not.toBe(IdempotencyService.hash('POST', '/x', { a: 2 }));
    expect(IdempotencyService.hash('POST', '/x', { a: 1 })).not.toBe(IdempotencyService.hash('POST', '/y', { a: 1 }));
  });
});
