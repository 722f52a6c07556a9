import { randomInt, randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { mint, transfer, useLedgerApp } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

/** How long the workers run (seconds); the issue asks for 10. */
const SECONDS = Number(process.env.LEDGER_STRESS_SECONDS ?? 10);
const WORKERS = 64;
const ACCOUNTS = 20;
const START = 5_000n;

/**
 * 64 workers move value at random among 20 accounts for SECONDS, each operation in a transaction of
 * its own: posts, debitInOrder + post, and holds that are then captured in part or voided. Every
 * refusal must be INSUFFICIENT_FUNDS; afterwards every balance equals the start plus what the
 * accepted operations say (no lost or doubled update), none is negative, nothing stays reserved,
 * the asset sums to zero and verification passes.
 */
describe('ledger under concurrency', () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner, clock: Clock;

  useLedgerApp((s) => ({ t, ledger, tx, clock } = s), { DATABASE_POOL_SIZE: '24' });

  it(
    `keeps every invariant with ${WORKERS} workers for ${SECONDS}s`,
    async () => {
      const users: string[] = Array.from({ length: ACCOUNTS }, () => randomUUID());
      await Promise.all(users.map((u) => mint(t, u, START)));
      const expected = new Map(users.map((u) => [u, START]));
      const move = (from: string, to: string, amount: bigint) => {
        expected.set(from, expected.get(from)! - amount);
        expected.set(to, expected.get(to)! + amount);
      };
      const counts = { posts: 0, own: 0, holds: 0, refused: 0 };
      const unexpected: unknown[] = [];
      const refusedOrThrow = (err: unknown) => {
        if (err instanceof AppError && err.code === 'INSUFFICIENT_FUNDS') counts.refused++;
        else unexpected.push(err);
      };

      const deadline = Date.now() + SECONDS * 1000;
      const worker = async () => {
        while (Date.now() < deadline && unexpected.length === 0) {
          const from = users[randomInt(ACCOUNTS)];
          let to = users[randomInt(ACCOUNTS)];
          if (to === from) to = users[(users.indexOf(from) + 1) % ACCOUNTS];
          const amount = BigInt(randomInt(1, 800));
          const dice = randomInt(100);
          try {
            if (dice < 60) {
              await tx.run((em) => ledger.post(em, transfer(from, to, amount)));
              move(from, to, amount);
              counts.posts++;
            } else if (dice < 85) {
              await tx.run(async (em) => {
                const debit = await ledger.debitInOrder(em, { userId: from, asset: 'CREDIT', from: ['wallet'], amount });
                // Half of them let post reuse the funds debitInOrder locked.
                await ledger.post(
                  em,
                  {
                    kind: 'gift',
                    reference: `gift:${randomUUID()}`,
                    postings: [...debit.postings, { account: userAccount(to, 'CREDIT', 'wallet'), amount }],
                  },
                  dice % 2 ? debit.locked : undefined,
                );
              });
              move(from, to, amount);
              counts.own++;
            } else {
              const { holdId } = await tx.run((em) =>
                ledger.hold(em, {
                  reference: `hold:${randomUUID()}`,
                  kind: 'purchase',
                  from: userAccount(from, 'CREDIT', 'wallet'),
                  to: userAccount(to, 'CREDIT', 'wallet'),
                  amount,
                  expiresAt: clock.in(3600),
                }),
              );
              if (randomInt(3) === 0) {
                await tx.run((em) => ledger.void(em, holdId));
              } else {
                const take = BigInt(randomInt(1, Number(amount) + 1));
                await tx.run((em) => ledger.capture(em, holdId, take));
                move(from, to, take);
              }
              counts.holds++;
            }
          } catch (err) {
            refusedOrThrow(err);
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));

      expect(unexpected).toEqual([]);
      expect(counts.posts).toBeGreaterThan(0);
      expect(counts.own).toBeGreaterThan(0);
      expect(counts.holds).toBeGreaterThan(0);
      for (const u of users) {
        const b = await ledger.balance(userAccount(u, 'CREDIT', 'wallet'));
        expect({ user: u, ...b }).toEqual({ user: u, posted: expected.get(u), held: 0n, available: expected.get(u) });
        expect(b.posted >= 0n).toBe(true);
      }
      const issuance = await ledger.balance(systemAccount('issuance', 'CREDIT'));
      expect(issuance.posted).toBe(-START * BigInt(ACCOUNTS));
      const report = await ledger.verify();
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({ ok: true, chainOk: true });
      expect(report.assets.CREDIT.sum).toBe(0n);
      const [{ negative }] = await t.sql<{ negative: string }>(
        `SELECT count(*)::text AS negative FROM ledger_balances WHERE NOT allow_negative AND (balance < 0 OR balance - held < 0)`,
      );
      expect(negative).toBe('0');
    },
    (SECONDS + 45) * 1000,
  );
});
