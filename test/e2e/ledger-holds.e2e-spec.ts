import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { JobsService } from '../../src/jobs/jobs.service';
import { EntryInput, HoldInput, LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { appError, ledgerFootprint, mint, newUserId, transfer, useLedgerApp } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

describe('ledger: holds (two-phase transfers)', () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner, clock: Clock;
  const wallet = (userId: string) => ledger.balance(userAccount(userId, 'CREDIT', 'wallet'));
  // Each in a transaction of its own, as a route's would be.
  const hold = (input: HoldInput) => tx.run((em) => ledger.hold(em, input));
  const capture = (holdId: string, amount?: bigint) => tx.run((em) => ledger.capture(em, holdId, amount));
  const voidHold = (holdId: string) => tx.run((em) => ledger.void(em, holdId));
  const post = (entry: EntryInput) => tx.run((em) => ledger.post(em, entry));
  const holdInput = (from: string, to: string, amount: bigint, extra: Partial<HoldInput> = {}): HoldInput => ({
    reference: `hold:${randomUUID()}`,
    kind: 'purchase',
    from: userAccount(from, 'CREDIT', 'wallet'),
    to: userAccount(to, 'CREDIT', 'wallet'),
    amount,
    expiresAt: clock.in(600),
    ...extra,
  });

  useLedgerApp((s) => ({ t, ledger, tx, clock } = s));

  it('reserves funds: available drops, and reserved funds cannot be spent or reserved twice', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    await hold(holdInput(a, b, 70n));
    expect(await wallet(a)).toEqual({ posted: 100n, held: 70n, available: 30n });
    const before = await ledgerFootprint(t);
    expect((await appError(post(transfer(a, b, 31n)))).code).toBe('INSUFFICIENT_FUNDS');
    expect((await appError(hold(holdInput(a, b, 31n)))).code).toBe('INSUFFICIENT_FUNDS');
    expect(await ledgerFootprint(t)).toEqual(before);
    await post(transfer(a, b, 30n));
    expect(await wallet(a)).toEqual({ posted: 70n, held: 70n, available: 0n });
  });

  it('lets concurrent holds reserve no more than there is', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => hold(holdInput(a, b, 10n))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 100n, available: 0n });
  });

  it('decides each of many concurrent holds and captures on its own', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const twin = holdInput(a, b, 5n);
    const eight = await Promise.allSettled(Array.from({ length: 8 }, () => hold(holdInput(a, b, 10n))));
    const twins = await Promise.allSettled([hold(twin), hold(twin)]); // the same hold twice at once: the same id
    const refused = await Promise.allSettled([
      hold(holdInput(a, b, 30n)), // more than what is left after the eight and the twin
      hold({ ...twin, amount: 6n }), // the same reference, other terms
    ]);
    const ok = [...eight, ...twins].flatMap((r) => (r.status === 'fulfilled' ? [r.value.holdId] : []));
    const failed = refused.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []));
    expect(ok).toHaveLength(10);
    expect(ok[8]).toBe(ok[9]);
    expect(failed.sort()).toEqual(['CONFLICT', 'INSUFFICIENT_FUNDS']);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 85n, available: 15n });

    const first = ok[0];
    const captures = await Promise.allSettled([
      ...ok.slice(1, 8).map((id) => capture(id, 4n)),
      capture(first, 10n),
      capture(first, 10n), // the same capture at once: one is a replay of the other
      capture(randomUUID()),
    ]);
    const codes = captures.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(codes.slice(0, 9)).toEqual(Array(9).fill('ok'));
    expect(codes.slice(9)).toEqual(['NOT_FOUND']);
    const [one, other] = captures.slice(7, 9).map((r) => (r as PromiseFulfilledResult<{ entryId: string; replayed: boolean }>).value);
    expect(other.entryId).toBe(one.entryId);
    expect([one.replayed, other.replayed].sort()).toEqual([false, true]);
    // another amount: the hold is captured already
    expect((await appError(capture(first, 3n))).code).toBe('INVALID_STATE');
    // 7 × 4 + 10 captured (the rest of those holds released); only the twin (5) stays held.
    expect(await wallet(a)).toEqual({ posted: 62n, held: 5n, available: 57n });
    expect(await wallet(b)).toEqual({ posted: 38n, held: 0n, available: 38n });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('keeps a reference free after a refused hold, and answers concurrent holds with one reference with one hold', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const reference = `hold:${randomUUID()}`;
    const tooBig = await appError(hold(holdInput(a, b, 1000n, { reference }))); // refused: writes nothing
    expect(tooBig.code).toBe('INSUFFICIENT_FUNDS');
    const [fits, again] = await Promise.allSettled([
      hold(holdInput(a, b, 10n, { reference })),
      hold(holdInput(a, b, 10n, { reference })), // the same hold again
    ]);
    expect(fits.status).toBe('fulfilled');
    expect(again).toEqual(fits);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 10n, available: 90n });
  });

  it('captures part of a hold and releases the rest', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const { holdId } = await hold(holdInput(a, b, 60n));
    const captured = await capture(holdId, 45n);
    expect(captured).toEqual({ entryId: expect.any(String), replayed: false });
    expect(await wallet(a)).toEqual({ posted: 55n, held: 0n, available: 55n });
    expect((await wallet(b)).posted).toBe(45n);
    // The same capture again is a replay; another amount is refused.
    expect(await capture(holdId, 45n)).toEqual({ entryId: captured.entryId, replayed: true });
    expect((await appError(capture(holdId, 10n))).code).toBe('INVALID_STATE');
    expect((await appError(voidHold(holdId))).code).toBe('INVALID_STATE');
    const [entry] = await t.sql<{ kind: string; reference: string }>('SELECT kind, reference FROM ledger_entries WHERE id = $1', [
      captured.entryId,
    ]);
    expect(entry).toEqual({ kind: 'purchase', reference: `hold:${holdId}:capture` });
  });

  it('captures the whole hold by default, inside the caller transaction', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    await tx.run(async (em) => {
      const { holdId } = await ledger.hold(em, holdInput(a, b, 60n));
      await ledger.capture(em, holdId);
    });
    expect(await wallet(a)).toEqual({ posted: 40n, held: 0n, available: 40n });
    expect((await wallet(b)).posted).toBe(60n);
  });

  it('voids: funds released; void again and capture after void are refused (INVALID_STATE) and write nothing', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const { holdId } = await hold(holdInput(a, b, 60n));
    await voidHold(holdId);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 0n, available: 100n });
    const before = await ledgerFootprint(t);
    const again = await appError(voidHold(holdId));
    expect([again.code, again.status, again.extra.status]).toEqual(['INVALID_STATE', 409, 'voided']);
    const err = await appError(capture(holdId));
    expect([err.code, err.extra.status]).toEqual(['INVALID_STATE', 'voided']);
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('voids and captures in the caller transaction, which stays usable after a refused transition', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const { holdId } = await hold(holdInput(a, b, 60n));
    await tx.run(async (em) => {
      await ledger.void(em, holdId);
      expect((await appError(ledger.void(em, holdId))).code).toBe('INVALID_STATE');
      expect((await appError(ledger.capture(em, holdId))).code).toBe('INVALID_STATE');
      await ledger.post(em, transfer(a, b, 100n));
    });
    expect(await wallet(a)).toEqual({ posted: 0n, held: 0n, available: 0n });
  });

  it('refuses bad captures and bad holds with coded errors, writing nothing', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    await mint(t, a, 100n, 'PROMO');
    const { holdId } = await hold(holdInput(a, b, 50n));
    const before = await ledgerFootprint(t);
    const refusals: [Promise<unknown>, string][] = [
      [capture(holdId, 51n), 'VALIDATION_FAILED'],
      [capture(holdId, 0n), 'VALIDATION_FAILED'],
      [capture(holdId, -5n), 'VALIDATION_FAILED'],
      [capture(holdId, 2.5 as unknown as bigint), 'VALIDATION_FAILED'],
      [capture(randomUUID()), 'NOT_FOUND'],
      [capture('not-a-hold'), 'NOT_FOUND'],
      [voidHold(randomUUID()), 'NOT_FOUND'],
      [hold(holdInput(a, b, 0n)), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, -10n)), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, 2n ** 60n)), 'VALIDATION_FAILED'],
      [hold(holdInput(a, a, 10n)), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, 10n, { to: userAccount(b, 'PROMO', 'wallet') })), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, 10n, { expiresAt: clock.in(-1) })), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, 10n, { from: { system: 'vault', asset: 'CREDIT' } as never })), 'VALIDATION_FAILED'],
      [hold(holdInput(a, b, 51n)), 'INSUFFICIENT_FUNDS'],
      [hold(holdInput(newUserId(), b, 1n)), 'INSUFFICIENT_FUNDS'],
    ];
    for (const [p, code] of refusals) expect((await appError(p)).code).toBe(code);
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('is idempotent by reference: the same hold again returns it, other terms conflict', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const input = holdInput(a, b, 40n);
    const first = await hold(input);
    const results = await Promise.all(Array.from({ length: 5 }, () => hold({ ...input, expiresAt: clock.in(900) })));
    for (const r of results) expect(r).toEqual(first);
    expect((await wallet(a)).held).toBe(40n);
    expect((await appError(hold({ ...input, amount: 41n }))).code).toBe('CONFLICT');
  });

  it('expires holds past their time on the business clock (periodic job), releasing the funds', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(t, a, 100n);
    const soon = await hold(holdInput(a, b, 30n, { expiresAt: clock.in(60) }));
    const later = await hold(holdInput(a, b, 20n, { expiresAt: clock.in(3_600) }));
    await t.http().post('/dev/clock').send({ advanceSeconds: 120 }).expect(200);
    expect((await appError(capture(soon.holdId))).code).toBe('INVALID_STATE');
    await t.app.get(JobsService).runDue();
    expect(await wallet(a)).toEqual({ posted: 100n, held: 20n, available: 80n });
    const [row] = await t.sql<{ status: string }>('SELECT status FROM ledger_holds WHERE id = $1', [soon.holdId]);
    expect(row.status).toBe('expired');
    expect((await appError(capture(soon.holdId))).extra.status).toBe('expired');
    const voided = await appError(voidHold(soon.holdId));
    expect([voided.code, voided.extra.status]).toEqual(['INVALID_STATE', 'expired']);
    await capture(later.holdId, 20n);
    expect((await wallet(b)).posted).toBe(20n);
  });

  it('reserves against pending credits too (they are folded into the row first), and captures from there', async () => {
    const creator = newUserId();
    const pending = userAccount(creator, 'CREDIT', 'earnings_pending');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        tx.run((em) =>
          ledger.post(em, {
            kind: 'sale',
            reference: `sale:${randomUUID()}`,
            postings: [
              { account: systemAccount('issuance', 'CREDIT'), amount: -10n },
              { account: pending, amount: 10n },
            ],
          }),
        ),
      ),
    );
    const { holdId } = await hold({
      ...holdInput(creator, creator, 195n),
      from: pending,
      to: systemAccount('escrow', 'CREDIT'),
    });
    expect(await ledger.balance(pending)).toEqual({ posted: 200n, held: 195n, available: 5n });
    await capture(holdId, 195n);
    expect(await ledger.balance(pending)).toEqual({ posted: 5n, held: 0n, available: 5n });
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
  });
});
