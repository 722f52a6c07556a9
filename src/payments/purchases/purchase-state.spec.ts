import fc from 'fast-check';
import { AppError } from '../../common/errors';
import { PurchaseFacts, PurchaseSignal, STATUS_TRANSITIONS, transition } from './purchase-state';
import { entitlement } from './settlement';

const start: PurchaseFacts = { status: 'pending', refundedCents: 0n, dispute: null };
const PRICE = 999n;

function run(signals: PurchaseSignal[]) {
  let facts = start;
  let restricted = false;
  const outcomes = new Set<string>();
  for (const s of signals) {
    const t = transition(facts, s);
    facts = { status: t.status, refundedCents: t.refundedCents, dispute: t.dispute };
    if (t.restriction) restricted = t.restriction === 'impose';
    t.outcomes.forEach((o) => outcomes.add(o));
  }
  const due = entitlement({
    status: facts.status,
    credits: 10_000n,
    bonusPromo: 1_000n,
    priceCents: PRICE,
    refundedCents: facts.refundedCents,
    refused: false,
  });
  return { ...facts, restricted, outcomes: [...outcomes].sort(), due };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
  return undefined;
};

describe('token purchase state machine', () => {
  it('mints on success, and a late decline or a second success changes nothing', () => {
    expect(run([{ kind: 'paid' }]).status).toBe('succeeded');
    expect(run([{ kind: 'paid' }, { kind: 'payment_failed', code: 'card_declined', message: null }, { kind: 'paid' }]).status).toBe(
      'succeeded',
    );
  });

  it('lets a declined purchase succeed with another attempt', () => {
    expect(run([{ kind: 'payment_failed', code: 'card_declined', message: null }]).status).toBe('failed');
    expect(run([{ kind: 'payment_failed', code: 'card_declined', message: null }, { kind: 'paid' }]).status).toBe('succeeded');
  });

  it('ends refunded with nothing due when the refund arrives before the success', () => {
    const r = run([{ kind: 'refunded', refundedCents: PRICE, full: true }, { kind: 'paid' }]);
    expect(r.status).toBe('refunded');
    expect(r.due).toEqual({ credits: 0n, promo: 0n });
  });

  it('keeps the unrefunded share after a partial refund, rounded in the platform favour', () => {
    const r = run([{ kind: 'paid' }, { kind: 'refunded', refundedCents: 333n, full: false }]);
    expect(r.status).toBe('succeeded');
    // 10,000 * 333 / 999 = 3,333.33 → 3,334 taken back; 1,000 * 333 / 999 = 333.33 → 334.
    expect(r.due).toEqual({ credits: 6_666n, promo: 666n });
  });

  it('restricts the account on a dispute, lifts the restriction and restores the credits when the dispute is won', () => {
    const opened = run([{ kind: 'paid' }, { kind: 'dispute_opened', disputeId: 'dp_1' }]);
    expect(opened).toMatchObject({ status: 'disputed', restricted: true, outcomes: ['chargeback'], due: { credits: 0n, promo: 0n } });
    const won = run([{ kind: 'paid' }, { kind: 'dispute_opened', disputeId: 'dp_1' }, { kind: 'dispute_won', disputeId: 'dp_1' }]);
    expect(won).toMatchObject({
      status: 'succeeded',
      restricted: false,
      dispute: { id: 'dp_1', status: 'won' },
      due: { credits: 10_000n, promo: 1_000n },
    });
    const lost = run([{ kind: 'paid' }, { kind: 'dispute_opened', disputeId: 'dp_1' }, { kind: 'dispute_lost', disputeId: 'dp_1' }]);
    expect(lost).toMatchObject({ status: 'disputed', restricted: true, outcomes: ['chargeback', 'dispute_lost'] });
  });

  it('refuses illegal transitions with INVALID_STATE', () => {
    const disputed = transition(transition(start, { kind: 'paid' }), { kind: 'dispute_opened', disputeId: 'dp_1' });
    const refunded = transition(transition(start, { kind: 'paid' }), { kind: 'refunded', refundedCents: PRICE, full: true });
    expect(codeOf(() => transition(disputed, { kind: 'refunded', refundedCents: PRICE, full: true }))).toBe('INVALID_STATE');
    expect(codeOf(() => transition(disputed, { kind: 'dispute_opened', disputeId: 'dp_2' }))).toBe('INVALID_STATE');
    expect(codeOf(() => transition(refunded, { kind: 'dispute_opened', disputeId: 'dp_1' }))).toBe('INVALID_STATE');
    const won = transition(disputed, { kind: 'dispute_won', disputeId: 'dp_1' });
    expect(codeOf(() => transition(won, { kind: 'dispute_lost', disputeId: 'dp_1' }))).toBe('INVALID_STATE');
  });

  it('never leaves refunded, and only a won dispute leaves disputed', () => {
    for (const [event, edges] of Object.entries(STATUS_TRANSITIONS)) {
      if (edges.refunded) expect(edges.refunded).toBe('refunded');
      if (edges.disputed && edges.disputed !== 'disputed') expect(event).toBe('dispute_won');
    }
  });

  /** Histories Stripe can produce, in real order: declines, the success, then refunds or a dispute. */
  const history = fc
    .record({
      declines: fc.nat({ max: 2 }),
      ending: fc.oneof(
        fc.constant<PurchaseSignal[]>([]),
        fc.array(fc.integer({ min: 1, max: Number(PRICE) }), { minLength: 1, maxLength: 3 }).map((cuts) => {
          const cumulative = [...new Set(cuts)].sort((a, b) => a - b);
          return cumulative.map((c): PurchaseSignal => ({ kind: 'refunded', refundedCents: BigInt(c), full: BigInt(c) === PRICE }));
        }),
        fc.constantFrom<PurchaseSignal[]>(
          [{ kind: 'dispute_opened', disputeId: 'dp_1' }],
          [
            { kind: 'dispute_opened', disputeId: 'dp_1' },
            { kind: 'dispute_won', disputeId: 'dp_1' },
          ],
          [
            { kind: 'dispute_opened', disputeId: 'dp_1' },
            { kind: 'dispute_lost', disputeId: 'dp_1' },
          ],
        ),
      ),
    })
    .map(({ declines, ending }): PurchaseSignal[] => [
      ...Array.from({ length: declines }, (): PurchaseSignal => ({ kind: 'payment_failed', code: 'card_declined', message: null })),
      { kind: 'paid' },
      ...ending,
    ]);

  it('reaches the same status, entitlement, account restriction and outcomes whatever the delivery order and duplicates', () => {
    fc.assert(
      fc.property(
        history.chain((h) =>
          fc.tuple(
            fc.constant(h),
            fc.shuffledSubarray(h, { minLength: h.length, maxLength: h.length }),
            fc.array(fc.nat({ max: h.length - 1 }), { maxLength: 3 }),
          ),
        ),
        ([inOrder, shuffled, dupes]) => {
          const delivered = [...shuffled, ...dupes.map((i) => shuffled[i])];
          expect(run(delivered)).toEqual(run(inOrder));
        },
      ),
      { numRuns: 500 },
    );
  });
});
