import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { JobsService } from '../../src/jobs/jobs.service';
import { HoldInput, LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { appError, ledgerFootprint, mint, newUserId, transfer } from '../support/ledger-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

describe('ledger: holds (two-phase transfers)', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let tx: TransactionRunner;
  let clock: Clock;
  const wallet = (userId: string) => ledger.balance(userAccount(userId, 'CREDIT', 'wallet'));
  const holdInput = (from: string, to: string, amount: bigint, extra: Partial<HoldInput> = {}): HoldInput => ({
    reference: `hold:${randomUUID()}`,
    kind: 'purchase',
    from: userAccount(from, 'CREDIT', 'wallet'),
    to: userAccount(to, 'CREDIT', 'wallet'),
    amount,
    expiresAt: clock.in(600),
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApp();
    ledger = t.app.get(LedgerService);
    tx = t.app.get(TransactionRunner);
    clock = t.app.get(Clock);
  });
  afterAll(() => t.close());

  it('reserves funds: available drops, and reserved funds cannot be spent or reserved twice', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    await ledger.hold(undefined, holdInput(a, b, 70n));
    expect(await wallet(a)).toEqual({ posted: 100n, held: 70n, available: 30n });
    const before = await ledgerFootprint(t);
    expect((await appError(ledger.post(undefined, transfer(a, b, 31n)))).code).toBe('INSUFFICIENT_FUNDS');
    expect((await appError(ledger.hold(undefined, holdInput(a, b, 31n)))).code).toBe('INSUFFICIENT_FUNDS');
    expect(await ledgerFootprint(t)).toEqual(before);
    await ledger.post(undefined, transfer(a, b, 30n));
    expect(await wallet(a)).toEqual({ posted: 70n, held: 70n, available: 0n });
  });

  it('lets concurrent holds reserve no more than there is', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => ledger.hold(undefined, holdInput(a, b, 10n))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 100n, available: 0n });
  });

  it('decides each of many concurrent holds and captures (group-committed) on its own', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const twin = holdInput(a, b, 5n);
    const holds = await Promise.allSettled([
      ...Array.from({ length: 8 }, () => ledger.hold(undefined, holdInput(a, b, 10n))),
      ledger.hold(undefined, holdInput(a, b, 30n)), // more than what is left after the eight
      ledger.hold(undefined, twin),
      ledger.hold(undefined, twin), // the same hold again: the same id
      ledger.hold(undefined, { ...twin, amount: 6n }), // the same reference, other terms
    ]);
    const ok = holds.flatMap((r) => (r.status === 'fulfilled' ? [r.value.holdId] : []));
    const failed = holds.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []));
    expect(ok).toHaveLength(10);
    expect(ok[8]).toBe(ok[9]);
    expect(failed.sort()).toEqual(['CONFLICT', 'INSUFFICIENT_FUNDS']);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 85n, available: 15n });

    const first = ok[0];
    const captures = await Promise.allSettled([
      ...ok.slice(1, 8).map((id) => ledger.capture(undefined, id, 4n)),
      ledger.capture(undefined, first, 10n),
      ledger.capture(undefined, first, 10n), // a replay of the capture beside it
      ledger.capture(undefined, first, 3n), // another amount: the hold is captured already
      ledger.capture(undefined, randomUUID()),
    ]);
    const codes = captures.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(codes.slice(0, 9)).toEqual(Array(9).fill('ok'));
    expect(codes.slice(9)).toEqual(['INVALID_STATE', 'NOT_FOUND']);
    const [firstCapture, replay] = captures.slice(7, 9).map((r) => (r as PromiseFulfilledResult<{ entryId: string }>).value.entryId);
    expect(replay).toBe(firstCapture);
    // 7 × 4 + 10 captured (the rest of those holds released); only the twin (5) stays held.
    expect(await wallet(a)).toEqual({ posted: 62n, held: 5n, available: 57n });
    expect(await wallet(b)).toEqual({ posted: 38n, held: 0n, available: 38n });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('decides concurrent holds with one reference as if they came one by one', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const reference = `hold:${randomUUID()}`;
    const [tooBig, fits, again] = await Promise.allSettled([
      ledger.hold(undefined, holdInput(a, b, 1000n, { reference })), // refused: writes nothing, the reference stays free
      ledger.hold(undefined, holdInput(a, b, 10n, { reference })),
      ledger.hold(undefined, holdInput(a, b, 10n, { reference })), // the same hold again
    ]);
    expect(tooBig.status === 'rejected' && (tooBig.reason as { code: string }).code).toBe('INSUFFICIENT_FUNDS');
    expect(fits.status).toBe('fulfilled');
    expect(again).toEqual(fits);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 10n, available: 90n });
  });

  it('captures part of a hold and releases the rest', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const { holdId } = await ledger.hold(undefined, holdInput(a, b, 60n));
    const captured = await ledger.capture(undefined, holdId, 45n);
    expect(captured).toEqual({ entryId: expect.any(String), replayed: false });
    expect(await wallet(a)).toEqual({ posted: 55n, held: 0n, available: 55n });
    expect((await wallet(b)).posted).toBe(45n);
    // The same capture again is a replay; another amount is refused.
    expect(await ledger.capture(undefined, holdId, 45n)).toEqual({ entryId: captured.entryId, replayed: true });
    expect((await appError(ledger.capture(undefined, holdId, 10n))).code).toBe('INVALID_STATE');
    expect((await appError(ledger.void(undefined, holdId))).code).toBe('INVALID_STATE');
    const [entry] = await t.sql<{ kind: string; reference: string }>('SELECT kind, reference FROM ledger_entries WHERE id = $1', [
      captured.entryId,
    ]);
    expect(entry).toEqual({ kind: 'purchase', reference: `hold:${holdId}:capture` });
  });

  it('captures the whole hold by default, inside the caller transaction', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    await tx.run(async (em) => {
      const { holdId } = await ledger.hold(em, holdInput(a, b, 60n));
      await ledger.capture(em, holdId);
    });
    expect(await wallet(a)).toEqual({ posted: 40n, held: 0n, available: 40n });
    expect((await wallet(b)).posted).toBe(60n);
  });

  it('voids: funds released, void again is a no-op, capture after void is refused and writes nothing', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const { holdId } = await ledger.hold(undefined, holdInput(a, b, 60n));
    await ledger.void(undefined, holdId);
    await ledger.void(undefined, holdId);
    expect(await wallet(a)).toEqual({ posted: 100n, held: 0n, available: 100n });
    const before = await ledgerFootprint(t);
    const err = await appError(ledger.capture(undefined, holdId));
    expect([err.code, err.extra.status]).toEqual(['INVALID_STATE', 'voided']);
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('refuses bad captures and bad holds with coded errors, writing nothing', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    await mint(ledger, a, 100n, 'PROMO');
    const { holdId } = await ledger.hold(undefined, holdInput(a, b, 50n));
    const before = await ledgerFootprint(t);
    const refusals: [Promise<unknown>, string][] = [
      [ledger.capture(undefined, holdId, 51n), 'VALIDATION_FAILED'],
      [ledger.capture(undefined, holdId, 0n), 'VALIDATION_FAILED'],
      [ledger.capture(undefined, holdId, -5n), 'VALIDATION_FAILED'],
      [ledger.capture(undefined, holdId, 2.5 as unknown as bigint), 'VALIDATION_FAILED'],
      [ledger.capture(undefined, randomUUID()), 'NOT_FOUND'],
      [ledger.capture(undefined, 'not-a-hold'), 'NOT_FOUND'],
      [ledger.void(undefined, randomUUID()), 'NOT_FOUND'],
      [ledger.hold(undefined, holdInput(a, b, 0n)), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, -10n)), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, 2n ** 60n)), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, a, 10n)), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, 10n, { to: userAccount(b, 'PROMO', 'wallet') })), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, 10n, { expiresAt: clock.in(-1) })), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, 10n, { from: { system: 'vault', asset: 'CREDIT' } as never })), 'VALIDATION_FAILED'],
      [ledger.hold(undefined, holdInput(a, b, 51n)), 'INSUFFICIENT_FUNDS'],
      [ledger.hold(undefined, holdInput(newUserId(), b, 1n)), 'INSUFFICIENT_FUNDS'],
    ];
    for (const [p, code] of refusals) expect((await appError(p)).code).toBe(code);
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('is idempotent by reference: the same hold again returns it, other terms conflict', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const input = holdInput(a, b, 40n);
    const first = await ledger.hold(undefined, input);
    const results = await Promise.all(Array.from({ length: 5 }, () => ledger.hold(undefined, { ...input, expiresAt: clock.in(900) })));
    for (const r of results) expect(r).toEqual(first);
    expect((await wallet(a)).held).toBe(40n);
    expect((await appError(ledger.hold(undefined, { ...input, amount: 41n }))).code).toBe('CONFLICT');
  });

  it('expires holds past their time on the business clock (periodic job), releasing the funds', async () => {
    const [a, b] = [newUserId(), newUserId()];
    await mint(ledger, a, 100n);
    const soon = await ledger.hold(undefined, holdInput(a, b, 30n, { expiresAt: clock.in(60) }));
    const later = await ledger.hold(undefined, holdInput(a, b, 20n, { expiresAt: clock.in(3_600) }));
    await t.http().post('/dev/clock').send({ advanceSeconds: 120 }).expect(200);
    expect((await appError(ledger.capture(undefined, soon.holdId))).code).toBe('INVALID_STATE');
    await t.app.get(JobsService).runDue();
    expect(await wallet(a)).toEqual({ posted: 100n, held: 20n, available: 80n });
    const [row] = await t.sql<{ status: string }>('SELECT status FROM ledger_holds WHERE id = $1', [soon.holdId]);
    expect(row.status).toBe('expired');
    expect((await appError(ledger.capture(undefined, soon.holdId))).extra.status).toBe('expired');
    await ledger.void(undefined, soon.holdId);
    await ledger.capture(undefined, later.holdId, 20n);
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
    const { holdId } = await ledger.hold(undefined, {
      ...holdInput(creator, creator, 195n),
      from: pending,
      to: systemAccount('escrow', 'CREDIT'),
    });
    expect(await ledger.balance(pending)).toEqual({ posted: 200n, held: 195n, available: 5n });
    await ledger.capture(undefined, holdId, 195n);
    expect(await ledger.balance(pending)).toEqual({ posted: 5n, held: 0n, available: 5n });
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
  });
});
