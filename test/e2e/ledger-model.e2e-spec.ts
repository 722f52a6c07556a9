import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { LedgerService, userAccount } from '../../src/ledger/ledger.service';
import { mint, transfer, useLedgerApp } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

/**
 * Property: for any sequence of mints, transfers, holds, captures (whole, partial, too large, again)
 * and voids, the ledger behaves exactly like a tiny in-memory model: same accepted/refused decisions
 * (with the same codes), same posted and held balances after every step.
 */
const USERS = 4;

type Op =
  | { op: 'mint'; to: number; amount: number }
  | { op: 'transfer'; from: number; to: number; amount: number }
  | { op: 'hold'; from: number; to: number; amount: number }
  | { op: 'capture'; hold: number; amount: number | null }
  | { op: 'void'; hold: number }
  | { op: 'replay' };

interface ModelHold {
  id: string;
  from: number;
  to: number;
  amount: bigint;
  status: 'pending' | 'captured' | 'voided';
  captured?: bigint;
  entryId?: string;
}

const user = fc.integer({ min: 0, max: USERS - 1 });
const amount = fc.integer({ min: 1, max: 300 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mint' as const), to: user, amount: fc.integer({ min: 1, max: 500 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('transfer' as const), from: user, to: user, amount }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('hold' as const), from: user, to: user, amount }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('capture' as const),
      hold: fc.nat(20),
      amount: fc.option(fc.integer({ min: 1, max: 320 }), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('void' as const), hold: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'replay' as const }) },
);

describe('ledger: model-based property test', () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner, clock: Clock;

  useLedgerApp((s) => ({ t, ledger, tx, clock } = s));

  /** Runs one operation on the real ledger; answers 'ok' or the error code. */
  async function outcome(p: Promise<unknown>): Promise<string> {
    try {
      await p;
      return 'ok';
    } catch (err) {
      if (err instanceof AppError) return err.code;
      throw err;
    }
  }

  it('matches the model for random sequences of posts, holds, captures and voids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const users = Array.from({ length: USERS }, () => randomUUID());
        const posted = users.map(() => 0n);
        const held = users.map(() => 0n);
        const holds: ModelHold[] = [];
        let lastEntry: { input: ReturnType<typeof transfer>; entryId: string } | undefined;
        const available = (u: number) => posted[u] - held[u];

        for (const op of ops) {
          let expected: string;
          let actual: string;
          if (op.op === 'mint') {
            expected = 'ok';
            actual = await outcome(mint(t, users[op.to], BigInt(op.amount)));
            posted[op.to] += BigInt(op.amount);
          } else if (op.op === 'transfer') {
            const input = transfer(users[op.from], users[op.to], BigInt(op.amount));
            const ok = op.from === op.to ? true : available(op.from) >= BigInt(op.amount);
            expected = ok ? 'ok' : 'INSUFFICIENT_FUNDS';
            const result = await tx.run((em) => ledger.post(em, input)).catch((e) => e);
            actual = result instanceof AppError ? result.code : 'ok';
            if (actual === 'ok') lastEntry = { input, entryId: result.entryId };
            if (ok && op.from !== op.to) {
              posted[op.from] -= BigInt(op.amount);
              posted[op.to] += BigInt(op.amount);
            }
          } else if (op.op === 'hold') {
            const input = {
              reference: `hold:${randomUUID()}`,
              kind: 'purchase',
              from: userAccount(users[op.from], 'CREDIT', 'wallet'),
              to: userAccount(users[op.to], 'CREDIT', 'wallet'),
              amount: BigInt(op.amount),
              expiresAt: clock.in(3600),
            };
            if (op.from === op.to) expected = 'VALIDATION_FAILED';
            else expected = available(op.from) >= BigInt(op.amount) ? 'ok' : 'INSUFFICIENT_FUNDS';
            const result = await tx.run((em) => ledger.hold(em, input)).catch((e) => e);
            actual = result instanceof AppError ? result.code : 'ok';
            if (expected === 'ok') {
              holds.push({ id: result.holdId, from: op.from, to: op.to, amount: BigInt(op.amount), status: 'pending' });
              held[op.from] += BigInt(op.amount);
            }
          } else if (op.op === 'capture') {
            const h = holds[op.hold];
            if (!h) continue;
            const take = op.amount === null ? h.amount : BigInt(op.amount);
            if (h.status === 'voided') expected = 'INVALID_STATE';
            else if (h.status === 'captured') expected = take === h.captured ? 'ok' : 'INVALID_STATE';
            else expected = take > h.amount ? 'VALIDATION_FAILED' : 'ok';
            const result = await tx.run((em) => ledger.capture(em, h.id, op.amount === null ? undefined : take)).catch((e) => e);
            actual = result instanceof AppError ? result.code : 'ok';
            if (actual === 'ok' && h.status === 'captured') expect(result).toEqual({ entryId: h.entryId, replayed: true });
            if (expected === 'ok' && h.status === 'pending') {
              h.status = 'captured';
              h.captured = take;
              h.entryId = result.entryId;
              held[h.from] -= h.amount;
              posted[h.from] -= take;
              posted[h.to] += take;
            }
          } else if (op.op === 'void') {
            const h = holds[op.hold];
            if (!h) continue;
            expected = h.status === 'pending' ? 'ok' : 'INVALID_STATE';
            actual = await outcome(tx.run((em) => ledger.void(em, h.id)));
            if (h.status === 'pending') {
              h.status = 'voided';
              held[h.from] -= h.amount;
            }
          } else {
            if (!lastEntry) continue;
            expected = 'ok';
            const again = await tx.run((em) => ledger.post(em, lastEntry!.input));
            expect(again).toEqual({ entryId: lastEntry.entryId, replayed: true });
            actual = 'ok';
          }
          expect({ op, outcome: actual }).toEqual({ op, outcome: expected });
          for (let u = 0; u < USERS; u++) {
            const b = await ledger.balance(userAccount(users[u], 'CREDIT', 'wallet'));
            expect({ op, user: u, posted: b.posted, held: b.held }).toEqual({ op, user: u, posted: posted[u], held: held[u] });
          }
        }
      }),
      { numRuns: 25, interruptAfterTimeLimit: 30_000 },
    );
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
