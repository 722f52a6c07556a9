import {
  Actor,
  as,
  balance,
  disableFraudRule,
  fund,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
  makeAdmin,
  signUp,
  signUpCreator,
  verifyEmail,
} from '../support/market-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

const NUL = '\u0000';

/**
 * PostgreSQL text cannot hold U+0000: one rule refuses it in every string a request carries (body,
 * query and path, keys included) with 400 VALIDATION_FAILED, before anything reaches the database.
 */
describe('NUL characters in requests', () => {
  let t: TestApp, admin: Actor, creator: Actor;

  useTestApp((app) => (t = app));
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    creator = await signUpCreator(t);
  });

  const refused = async (req: PromiseLike<{ status: number; body: { code?: string; errors?: { field: string }[] } }>, field: string) => {
    const res = await req;
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors).toEqual([{ field, message: `${field} must not contain the NUL character (U+0000)` }]);
  };
  const count = async (table: string) => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const listing = { title: 'Red hat', description: 'A red hat', category: 'hats', profit: 10 };

  it('in a public search query', async () => {
    await refused(t.http().get('/listings?q=%00'), 'q');
    await refused(t.http().get('/listings?q=red%00hat&category=hats'), 'q');
    await refused(t.http().get('/listings?q[a]=%00'), 'q[a]');
    await t.http().get('/listings?q=red').expect(200);
  });

  it('in a listing title or description, on create and on update', async () => {
    const before = await count('listings');
    await refused(as(t, creator).post('/listings', { ...listing, title: `Red${NUL}hat` }), 'title');
    await refused(as(t, creator).post('/listings', { ...listing, description: NUL }), 'description');
    expect(await count('listings')).toBe(before);
    const { body } = await as(t, creator).post('/listings', listing).expect(201);
    await refused(as(t, creator).patch(`/listings/${body.id}`, { title: `x${NUL}` }), 'title');
    await refused(as(t, creator).patch(`/listings/${body.id}`, { description: `${NUL}y` }), 'description');
    expect(await t.sql('SELECT title, description FROM listings WHERE id = $1', [body.id])).toEqual([
      { title: 'Red hat', description: 'A red hat' },
    ]);
  });

  it('in the note of a credit transfer', async () => {
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    const sender = await signUp(t, 'sender');
    await verifyEmail(t, sender);
    await fund(t, sender.id, 'CREDIT', 10_000);
    const recipient = await signUp(t, 'recipient');
    const gift = (note: string) => as(t, sender).post('/credit-transfers', { toUserId: recipient.id, amount: 2500, note });
    await refused(gift(`happy${NUL}birthday`), 'note');
    expect(await balance(t, sender.id, 'CREDIT')).toBe(10_000n);
    await gift('happy birthday').expect(201);
  });

  it('in a token package name, on create and on update', async () => {
    const pkg = { name: 'Huge', priceCents: 999, currency: 'USD', credits: 10_000 };
    const before = await count('token_packages');
    await refused(as(t, admin).post('/admin/token-packages', { ...pkg, name: `Huge${NUL}` }), 'name');
    expect(await count('token_packages')).toBe(before);
    const { body } = await as(t, admin).post('/admin/token-packages', pkg).expect(201);
    await refused(as(t, admin).patch(`/admin/token-packages/${body.id}`, { name: NUL }), 'name');
  });

  it('in a path parameter, a login, a nested value and a key', async () => {
    await refused(t.http().get('/dev/mailbox/a%00b'), 'email');
    await refused(
      t
        .http()
        .post('/auth/login')
        .send({ email: `a${NUL}@example.com`, password: 'whatever it is' }),
      'email',
    );
    await refused(as(t, creator).post('/listings', { ...listing, tags: [['ok', `no${NUL}`]] }), 'tags.0.1');
    await refused(as(t, creator).post('/listings', { ...listing, [`ti${NUL}tle`]: 'x' }), 'ti\\u0000tle');
  });
});
