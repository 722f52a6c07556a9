import { TestApp, useTestApp } from '../support/test-app';
import {
  Actor,
  as,
  disableFraudRule,
  fund,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
  makeAdmin,
  signUp,
  verifyEmail,
} from '../support/market-fixtures';

/**
 * Evaluations run inside transactions that hold locks other requests queue on, each queued request
 * holding a pooled connection. With the smallest pool and the rules re-read on every evaluation, the
 * lock holder must read the rules on its own connection: had it asked the pool for another, every
 * request would wait for ever.
 */
describe('fraud rules read inside the evaluating transaction', () => {
  let t: TestApp;
  let admin: Actor;

  useTestApp((app) => (t = app), { DATABASE_POOL_SIZE: '2', FRAUD_RULES_CACHE_MS: '0' });
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
  });

  it('decides concurrent gifts of one sender, which queue on its lock, with a pool of two connections', async () => {
    const sender = await signUp(t, 'sender');
    await verifyEmail(t, sender);
    await fund(t, sender.id, 'CREDIT', 10_000);
    const recipient = await signUp(t, 'recipient');
    const gifts = Array.from({ length: 8 }, () => as(t, sender).post('/credit-transfers', { toUserId: recipient.id, amount: 100 }));
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), 30_000)));
    const outcome = await Promise.race([Promise.all(gifts.map((g) => g.then((r) => r.status))), stuck]);
    clearTimeout(timer);
    expect(outcome).not.toBe('stuck');
    expect((outcome as number[]).every((s) => s === 201 || s === 403)).toBe(true);
    const verify = await as(t, admin).get('/admin/ledger/verify').expect(200);
    expect(verify.body.ok).toBe(true);
  }, 60_000);
});
