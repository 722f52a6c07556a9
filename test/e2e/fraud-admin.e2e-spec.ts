import { randomUUID } from 'node:crypto';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { FraudService } from '../../src/fraud/fraud.service';
import { FraudDecision, FraudEvent } from '../../src/fraud/fraud.types';
import { Actor, as, makeAdmin, relogin, signUp } from '../support/market-fixtures';
import { APPLICATION, eligibleApplicant } from '../support/reseller-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

describe('fraud administration', () => {
  let t: TestApp;
  let admin: Actor;
  let user: Actor;
  useTestApp((app) => (t = app));

  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'fraud-admin'));
    user = await signUp(t, 'fraud-user');
  });

  /** Decides a synthetic event in a transaction of its own, as a calling module would. */
  const evaluate = (event: Omit<FraudEvent, 'subjectId'> & { subjectId?: string }): Promise<FraudDecision> =>
    t.app.get(TransactionRunner).run((em) => t.app.get(FraudService).evaluate(em, { subjectId: randomUUID(), ...event }));
  const onlyUser = (id: string) => ({ '==': [{ var: 'user.id' }, id] });
  const newRule = (over: Record<string, unknown> = {}) => ({
    name: `rule-${randomUUID().slice(0, 8)}`,
    eventTypes: ['reseller_application'],
    condition: onlyUser(user.id),
    action: 'REVIEW',
    score: 0,
    mode: 'SHADOW',
    ...over,
  });
  const createRule = async (over: Record<string, unknown> = {}) =>
    (await as(t, admin).post('/admin/fraud/rules', newRule(over)).expect(201)).body;
  const audit = (subjectId: string) =>
    t.sql<{ action: string; actor_id: string; reason: string | null; data: Record<string, unknown> }>(
      `SELECT action, actor_id, reason, data FROM audit_log WHERE subject_id = $1 ORDER BY seq`,
      [subjectId],
    );
  const del = (url: string) => t.http().delete(url).set('Authorization', `Bearer ${admin.token}`);
  const result = (d: FraudDecision, ruleId: string) => d.rules.find((r) => r.ruleId === ruleId);

  describe('access', () => {
    it('refuses every fraud admin route to a non-admin with 403 problem+json', async () => {
      const id = randomUUID();
      const routes: [string, string][] = [
        ['get', '/admin/fraud/rules'],
        ['get', `/admin/fraud/rules/${id}`],
        ['post', '/admin/fraud/rules'],
        ['patch', `/admin/fraud/rules/${id}`],
        ['get', '/admin/fraud/lists/ip'],
        ['post', '/admin/fraud/lists/ip'],
        ['delete', `/admin/fraud/lists/ip/${id}`],
        ['get', '/admin/fraud/labels'],
        ['post', '/admin/fraud/labels'],
        ['get', '/admin/fraud/decisions'],
        ['get', `/admin/fraud/decisions/${id}`],
        ['get', '/admin/fraud/reviews'],
        ['get', `/admin/fraud/reviews/${id}`],
        ['post', `/admin/fraud/reviews/${id}/approve`],
        ['post', `/admin/fraud/reviews/${id}/reject`],
      ];
      for (const [method, url] of routes) {
        const http = t.http();
        const res = await http[method as 'get'](url)
          .set('Authorization', `Bearer ${user.token}`)
          .send(method === 'get' || method === 'delete' ? undefined : { note: 'x' });
        expect({ url, method, status: res.status, code: res.body.code }).toEqual({ url, method, status: 403, code: 'FORBIDDEN' });
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    });
  });

  describe('rules', () => {
    it('lists the current version of each rule, filtered by event type and mode', async () => {
      const all = (await as(t, admin).get('/admin/fraud/rules?limit=200').expect(200)).body;
      expect(all.items.find((r: { name: string }) => r.name === 'block-listed')).toMatchObject({
        id: '00000000-0000-4000-8000-00000000f001',
        version: 1,
        action: 'BLOCK',
        mode: 'ACTIVE',
      });
      const login = (await as(t, admin).get('/admin/fraud/rules?eventType=login&limit=200').expect(200)).body.items.map(
        (r: { name: string }) => r.name,
      );
      expect(login).toEqual(expect.arrayContaining(['block-listed', 'new-device-and-network-after-reset']));
      expect(login).not.toContain('token-purchase-velocity');
      const page = (await as(t, admin).get('/admin/fraud/rules?limit=2&mode=ACTIVE').expect(200)).body;
      expect(page.items).toHaveLength(2);
      const next = (await as(t, admin).get(`/admin/fraud/rules?limit=2&mode=ACTIVE&cursor=${page.nextCursor}`).expect(200)).body;
      expect(next.items[0].name > page.items[1].name).toBe(true);
      await as(t, admin).get('/admin/fraud/rules?mode=OFF').expect(400);
      await as(t, admin).get('/admin/fraud/rules?eventType=lunch').expect(400);
    });

    it('creates version 1 and makes every edit a new version, audited, the rule showing all versions newest first', async () => {
      const created = await createRule({ description: 'first' });
      expect(created).toMatchObject({ version: 1, description: 'first', mode: 'SHADOW', createdBy: admin.id });
      const v2 = (await as(t, admin).patch(`/admin/fraud/rules/${created.id}`, { score: 10 }).expect(200)).body;
      expect(v2).toMatchObject({ id: created.id, version: 2, score: 10, description: 'first', condition: created.condition });
      const v3 = (
        await as(t, admin)
          .patch(`/admin/fraud/rules/${created.id}`, { mode: 'DISABLED', name: `${created.name}-off` })
          .expect(200)
      ).body;
      expect(v3).toMatchObject({ version: 3, mode: 'DISABLED', score: 10, name: `${created.name}-off` });

      const shown = (await as(t, admin).get(`/admin/fraud/rules/${created.id}`).expect(200)).body;
      expect(shown).toMatchObject({ id: created.id, version: 3, mode: 'DISABLED' });
      expect(shown.versions.map((v: { version: number; score: number; mode: string }) => [v.version, v.score, v.mode])).toEqual([
        [3, 10, 'DISABLED'],
        [2, 10, 'SHADOW'],
        [1, 0, 'SHADOW'],
      ]);
      const disabled = (await as(t, admin).get('/admin/fraud/rules?mode=DISABLED&limit=200').expect(200)).body.items;
      expect(disabled.map((r: { id: string }) => r.id)).toContain(created.id);

      const log = await audit(created.id);
      expect(log.map((a) => [a.action, a.actor_id, a.data.version])).toEqual([
        ['fraud.rule_created', admin.id, 1],
        ['fraud.rule_changed', admin.id, 2],
        ['fraud.rule_changed', admin.id, 3],
      ]);
      expect(log[1].data.changes).toEqual({ score: { from: 0, to: 10 } });
      const [row] = await t.sql<{ current_version: number; name: string }>(`SELECT current_version, name FROM fraud_rules WHERE id = $1`, [
        created.id,
      ]);
      expect(row).toEqual({ current_version: 3, name: `${created.name}-off` });
    });

    it('refuses a taken name with 409, an empty edit with 400 and an unknown rule with 404', async () => {
      const a = await createRule();
      const b = await createRule();
      expect(
        (
          await as(t, admin)
            .post('/admin/fraud/rules', newRule({ name: a.name }))
            .expect(409)
        ).body.code,
      ).toBe('CONFLICT');
      expect((await as(t, admin).patch(`/admin/fraud/rules/${b.id}`, { name: a.name }).expect(409)).body.code).toBe('CONFLICT');
      await as(t, admin).patch(`/admin/fraud/rules/${b.id}`, {}).expect(400);
      await as(t, admin).patch(`/admin/fraud/rules/${randomUUID()}`, { score: 1 }).expect(404);
      await as(t, admin).get(`/admin/fraud/rules/${randomUUID()}`).expect(404);
      const bad = await as(t, admin).get('/admin/fraud/rules/not-a-uuid').expect(400);
      expect(bad.body.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
      expect((await t.sql(`SELECT 1 FROM fraud_rule_versions WHERE rule_id = $1`, [b.id])).length).toBe(1);
    });

    it('refuses a malformed rule with an error naming the unknown variable or operator, and keeps the rule as it was', async () => {
      const res = await as(t, admin)
        .post('/admin/fraud/rules', newRule({ condition: { and: [{ '>': [{ var: 'user.agedays' }, 7] }, { eval: ['process.exit()'] }] } }))
        .expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        { field: 'condition', message: 'unknown variable "user.agedays"' },
        { field: 'condition', message: 'unknown operator "eval"' },
      ]);
      expect(res.body.detail).toContain('user.agedays');

      const list = await as(t, admin)
        .post('/admin/fraud/rules', newRule({ condition: { in_list: ['phone', { var: 'user.id' }] } }))
        .expect(400);
      expect(list.body.errors[0].message).toMatch(/unknown list type "phone"/);

      const rule = await createRule();
      const edit = await as(t, admin)
        .patch(`/admin/fraud/rules/${rule.id}`, { condition: { '>': [{ var: 'payment.riskscore' }, 1] } })
        .expect(400);
      expect(edit.body.errors).toEqual([{ field: 'condition', message: 'unknown variable "payment.riskscore"' }]);
      expect((await as(t, admin).get(`/admin/fraud/rules/${rule.id}`).expect(200)).body.versions).toHaveLength(1);
    });

    it.each([
      ['an unknown event type', { eventTypes: ['lunch'] }, 'eventTypes'],
      ['no event type', { eventTypes: [] }, 'eventTypes'],
      ['an unknown action', { action: 'DENY' }, 'action'],
      ['an unknown mode', { mode: 'LOUD' }, 'mode'],
      ['a score over 100', { score: 101 }, 'score'],
      ['a fractional score', { score: 1.5 }, 'score'],
      ['an empty name', { name: '  ' }, 'name'],
      ['a name over 100 characters', { name: 'x'.repeat(101) }, 'name'],
      ['no condition', { condition: undefined }, 'condition'],
      ['an unknown field', { priority: 1 }, 'priority'],
    ])('refuses %s with 400 naming the field', async (_, over, field) => {
      const res = await as(t, admin).post('/admin/fraud/rules', newRule(over)).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('refuses null in an edit', async () => {
      const rule = await createRule();
      const res = await as(t, admin).patch(`/admin/fraud/rules/${rule.id}`, { score: null }).expect(400);
      expect(new Set(res.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['score']));
      expect((await as(t, admin).get(`/admin/fraud/rules/${rule.id}`).expect(200)).body.versions).toHaveLength(1);
    });

    it('gives concurrent edits of one rule consecutive versions, none lost', async () => {
      const rule = await createRule();
      const scores = [11, 12, 13, 14, 15, 16];
      const edits = await Promise.all(scores.map((score) => as(t, admin).patch(`/admin/fraud/rules/${rule.id}`, { score })));
      expect(edits.map((e) => e.status)).toEqual(scores.map(() => 200));
      expect(edits.map((e) => e.body.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
      const shown = (await as(t, admin).get(`/admin/fraud/rules/${rule.id}`).expect(200)).body;
      expect(shown.version).toBe(7);
      expect(shown.versions.map((v: { version: number }) => v.version)).toEqual([7, 6, 5, 4, 3, 2, 1]);
      // Each version records the score its own edit set.
      const byVersion = new Map(edits.map((e) => [e.body.version, e.body.score]));
      for (const v of shown.versions.slice(0, 6)) expect(v.score).toBe(byVersion.get(v.version));
      expect((await audit(rule.id)).filter((a) => a.action === 'fraud.rule_changed')).toHaveLength(6);
    });

    it('applies an edit to the next evaluation at once', async () => {
      const rule = await createRule({ mode: 'ACTIVE', eventTypes: ['reseller_order_open'] });
      expect((await evaluate({ type: 'reseller_order_open', userId: user.id })).outcome).toBe('REVIEW');
      await as(t, admin).patch(`/admin/fraud/rules/${rule.id}`, { mode: 'DISABLED' }).expect(200);
      const after = await evaluate({ type: 'reseller_order_open', userId: user.id });
      expect(after.outcome).toBe('ALLOW');
      expect(result(after, rule.id)).toBeUndefined();
    });
  });

  describe('decisions', () => {
    it('keeps an old decision explainable after its rule was edited', async () => {
      const v1 = { and: [onlyUser(user.id), { '>': [{ var: 'event.amount' }, 100] }] };
      const v2 = { and: [onlyUser(user.id), { '>': [{ var: 'event.amount' }, 1000] }] };
      const rule = await createRule({ condition: v1, eventTypes: ['reseller_order_confirm'] });
      const first = await evaluate({ type: 'reseller_order_confirm', userId: user.id, amount: 500n });
      expect(result(first, rule.id)).toMatchObject({ version: 1, matched: true, mode: 'SHADOW' });
      expect(first.outcome).toBe('ALLOW'); // a shadow rule never counts
      await as(t, admin).patch(`/admin/fraud/rules/${rule.id}`, { condition: v2, score: 5 }).expect(200);
      const second = await evaluate({ type: 'reseller_order_confirm', userId: user.id, amount: 500n });
      expect(result(second, rule.id)).toMatchObject({ version: 2, matched: false });

      const old = (await as(t, admin).get(`/admin/fraud/decisions/${first.id}`).expect(200)).body;
      expect(old).toMatchObject({ id: first.id, eventType: 'reseller_order_confirm', userId: user.id, outcome: 'ALLOW' });
      expect(old.features['event.amount']).toBe(500);
      const explained = old.rules.find((r: { ruleId: string }) => r.ruleId === rule.id);
      expect(explained).toMatchObject({
        version: 1,
        condition: v1,
        mode: 'SHADOW',
        action: 'REVIEW',
        score: 0,
        matched: true,
        error: null,
      });
      expect(explained.explanation.variables).toEqual([
        { name: 'user.id', value: user.id, meaning: expect.any(String) },
        { name: 'event.amount', value: 500, meaning: expect.any(String) },
      ]);
      const blockListed = old.rules.find((r: { name: string }) => r.name === 'block-listed');
      expect(blockListed.explanation.listLookups).toEqual(expect.arrayContaining([{ type: 'user', value: user.id }]));

      const now = (await as(t, admin).get(`/admin/fraud/decisions/${second.id}`).expect(200)).body;
      expect(now.rules.find((r: { ruleId: string }) => r.ruleId === rule.id)).toMatchObject({
        version: 2,
        condition: v2,
        score: 5,
        matched: false,
      });

      const matched = (await as(t, admin).get(`/admin/fraud/decisions?ruleId=${rule.id}`).expect(200)).body;
      expect(matched.items.map((d: { id: string }) => d.id)).toEqual([first.id]);
      expect(matched.items[0].matchedRules).toEqual([expect.objectContaining({ ruleId: rule.id, version: 1, name: rule.name })]);
      const mine = (await as(t, admin).get(`/admin/fraud/decisions?userId=${user.id}&eventType=reseller_order_confirm`).expect(200)).body;
      expect(mine.items.map((d: { id: string }) => d.id)).toEqual([second.id, first.id]);
      const paged = (
        await as(t, admin).get(`/admin/fraud/decisions?userId=${user.id}&eventType=reseller_order_confirm&limit=1`).expect(200)
      ).body;
      expect(paged.items.map((d: { id: string }) => d.id)).toEqual([second.id]);
      const rest = (
        await as(t, admin)
          .get(`/admin/fraud/decisions?userId=${user.id}&eventType=reseller_order_confirm&limit=1&cursor=${paged.nextCursor}`)
          .expect(200)
      ).body;
      expect(rest).toEqual({ items: [expect.objectContaining({ id: first.id })], nextCursor: null });
      const blocks = (
        await as(t, admin).get(`/admin/fraud/decisions?userId=${user.id}&outcome=BLOCK&eventType=reseller_order_confirm`).expect(200)
      ).body;
      expect(blocks.items).toEqual([]);
      await as(t, admin).get(`/admin/fraud/decisions/${randomUUID()}`).expect(404);
      await as(t, admin).get('/admin/fraud/decisions?outcome=MAYBE').expect(400);
      await as(t, admin)
        .get(`/admin/fraud/decisions?cursor=${Buffer.from('["x","y"]').toString('base64url')}`)
        .expect(400);
    });
  });

  describe('lists', () => {
    const add = (type: string, body: Record<string, unknown>) =>
      as(t, admin).post(`/admin/fraud/lists/${type}`, { reason: 'test', ...body });

    it.each([
      ['email', 'Mallory@Example.COM', 'mallory@example.com'],
      ['email_domain', 'Fraud-Mail.example', 'fraud-mail.example'],
      ['ip', '2001:DB8:0:0::17', '2001:db8::17'],
      ['ip_cidr', '192.0.2.0/24', '192.0.2.0/24'],
      ['device', 'A3C2E1B0-1111-4222-8333-944455556666', 'a3c2e1b0-1111-4222-8333-944455556666'],
      ['card_fingerprint', 'Fp_8xYz', 'Fp_8xYz'],
    ])('normalises a %s entry', async (type, value, stored) => {
      const res = await add(type, { value }).expect(201);
      expect(res.body).toMatchObject({ type, value: stored, reason: 'test', createdBy: admin.id, removedAt: null, expiresAt: null });
      expect((await add(type, { value: stored }).expect(409)).body.code).toBe('CONFLICT');
    });

    it.each([
      ['email', 'not-an-address'],
      ['email_domain', 'no spaces.example'],
      ['ip', '300.1.1.1'],
      ['ip_cidr', '10.0.0.0/33'],
      ['ip_cidr', '10.1.2.3/16'],
      ['ip_cidr', '10.1.2.3'],
      ['device', 'device-1'],
      ['card_fingerprint', 'x'.repeat(101)],
      ['user', 'someone'],
    ])('refuses a bad %s value (%s) with 400', async (type, value) => {
      const res = await add(type, { value }).expect(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'value' })]);
    });

    it('refuses an unknown list, a past expiry, a missing reason and an unknown user', async () => {
      const unknown = await add('phone', { value: '+1555' }).expect(400);
      expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'type' })]);
      await as(t, admin).get('/admin/fraud/lists/phone').expect(400);
      const now = Date.parse((await t.http().get('/dev/clock').expect(200)).body.now);
      const past = await add('ip', { value: '203.0.113.200', expiresAt: new Date(now - 1000).toISOString() }).expect(400);
      expect(past.body.errors).toEqual([{ field: 'expiresAt', message: 'must be in the future' }]);
      await as(t, admin).post('/admin/fraud/lists/ip', { value: '203.0.113.201' }).expect(400);
      await add('ip', { value: '203.0.113.202', expiresAt: 'tomorrow' }).expect(400);
      expect((await add('user', { value: randomUUID() }).expect(404)).body.code).toBe('NOT_FOUND');
    });

    it('blocks a listed user and network, and stops when the entry is removed (soft, audited)', async () => {
      const target = await signUp(t, 'listed');
      const entry = (await add('user', { value: target.id.toUpperCase() }).expect(201)).body;
      expect(entry.value).toBe(target.id);
      expect((await evaluate({ type: 'wholesale_purchase', userId: target.id })).outcome).toBe('BLOCK');

      const net = (await add('ip_cidr', { value: '198.51.100.0/24' }).expect(201)).body;
      const fromNet = await evaluate({ type: 'wholesale_purchase', userId: user.id, ip: '198.51.100.77' });
      expect(fromNet.outcome).toBe('BLOCK');
      expect(fromNet.rules.find((r) => r.name === 'block-listed')?.matched).toBe(true);

      const listed = (await as(t, admin).get('/admin/fraud/lists/user').expect(200)).body;
      expect(listed.items.map((e: { id: string }) => e.id)).toContain(entry.id);
      await del(`/admin/fraud/lists/user/${entry.id}`).expect(204);
      await del(`/admin/fraud/lists/user/${entry.id}`).expect(404);
      await del(`/admin/fraud/lists/ip/${net.id}`).expect(404); // wrong list
      await del(`/admin/fraud/lists/ip_cidr/${net.id}`).expect(204);
      expect((await evaluate({ type: 'wholesale_purchase', userId: target.id })).outcome).toBe('ALLOW');
      expect((await evaluate({ type: 'wholesale_purchase', userId: user.id, ip: '198.51.100.77' })).outcome).toBe('ALLOW');

      const [row] = await t.sql<{ removed_by: string; removed_at: Date | null }>(
        `SELECT removed_by, removed_at FROM fraud_list_entries WHERE id = $1`,
        [entry.id],
      );
      expect(row.removed_by).toBe(admin.id);
      expect(row.removed_at).not.toBeNull();
      expect((await as(t, admin).get('/admin/fraud/lists/user').expect(200)).body.items.map((e: { id: string }) => e.id)).not.toContain(
        entry.id,
      );
      const all = (await as(t, admin).get('/admin/fraud/lists/user?includeExpired=true').expect(200)).body;
      expect(all.items.find((e: { id: string }) => e.id === entry.id)).toMatchObject({ removedBy: admin.id });
      expect((await audit(entry.id)).map((a) => [a.action, a.actor_id])).toEqual([
        ['fraud.list_entry_added', admin.id],
        ['fraud.list_entry_removed', admin.id],
      ]);
    });

    it('pages entries newest first', async () => {
      const values = ['fp_page_1', 'fp_page_2', 'fp_page_3'];
      for (const value of values) await add('card_fingerprint', { value }).expect(201);
      const first = (await as(t, admin).get('/admin/fraud/lists/card_fingerprint?limit=2').expect(200)).body;
      const second = (await as(t, admin).get(`/admin/fraud/lists/card_fingerprint?limit=2&cursor=${first.nextCursor}`).expect(200)).body;
      const seen = [...first.items, ...second.items].map((e: { value: string }) => e.value);
      expect(seen.slice(0, 3)).toEqual(['fp_page_3', 'fp_page_2', 'fp_page_1']);
    });
  });

  describe('labels', () => {
    it('records admin labels with a reference of their own, audited, listed newest first; features see them', async () => {
      const target = await signUp(t, 'labelled');
      const first = (
        await as(t, admin)
          .post('/admin/fraud/labels', { userId: target.id, label: 'confirmed_takeover', note: 'owner confirmed' })
          .expect(201)
      ).body;
      expect(first).toMatchObject({
        userId: target.id,
        kind: 'confirmed_takeover',
        reference: expect.stringMatching(/^admin:[0-9a-f-]{36}$/),
        createdBy: admin.id,
        note: 'owner confirmed',
      });
      const second = (
        await as(t, admin).post('/admin/fraud/labels', { userId: target.id, label: 'confirmed_fraud', note: 'ring' }).expect(201)
      ).body;
      expect(second.reference).not.toBe(first.reference);

      const listed = (await as(t, admin).get(`/admin/fraud/labels?userId=${target.id}`).expect(200)).body;
      expect(listed.items.map((l: { id: string }) => l.id)).toEqual([second.id, first.id]);
      const frauds = (await as(t, admin).get(`/admin/fraud/labels?userId=${target.id}&label=confirmed_fraud`).expect(200)).body;
      expect(frauds.items.map((l: { id: string }) => l.id)).toEqual([second.id]);
      expect((await audit(target.id)).filter((a) => a.action === 'fraud.label_added').map((a) => [a.actor_id, a.reason])).toEqual([
        [admin.id, 'owner confirmed'],
        [admin.id, 'ring'],
      ]);
      const d = await evaluate({ type: 'wholesale_purchase', userId: target.id });
      expect(d.features['user.confirmedBad']).toBe(true);
    });

    it('refuses an unknown user (404), a label admins do not set and a missing note (400)', async () => {
      await as(t, admin).post('/admin/fraud/labels', { userId: randomUUID(), label: 'confirmed_fraud', note: 'x' }).expect(404);
      await as(t, admin).post('/admin/fraud/labels', { userId: user.id, label: 'chargeback', note: 'x' }).expect(400);
      await as(t, admin).post('/admin/fraud/labels', { userId: user.id, label: 'confirmed_fraud' }).expect(400);
      await as(t, admin).get('/admin/fraud/labels?cursor=bad').expect(400);
    });
  });

  describe('reviews', () => {
    it('lists open cases with their decision and decides one once under concurrent approve and reject, audited', async () => {
      // A reseller application reviewed by the fraud rules, through its real flow (src/resellers).
      const applicant = await eligibleApplicant(t, [admin]);
      const rule = await createRule({ mode: 'ACTIVE', condition: onlyUser(applicant.id), name: `review-${randomUUID().slice(0, 8)}` });
      const applicationId = (await as(t, applicant).post('/reseller-applications', APPLICATION).expect(201)).body.id as string;
      const { fraudDecisionId } = (await as(t, admin).get(`/admin/reseller-applications/${applicationId}`).expect(200)).body;

      const queue = (await as(t, admin).get(`/admin/fraud/reviews?status=open&userId=${applicant.id}`).expect(200)).body;
      expect(queue.items).toHaveLength(1);
      const review = queue.items[0];
      expect(review).toMatchObject({
        decisionId: fraudDecisionId,
        eventType: 'reseller_application',
        subjectId: applicationId,
        status: 'open',
        decision: { outcome: 'REVIEW', score: 0, matchedRules: [expect.objectContaining({ ruleId: rule.id, name: rule.name })] },
      });
      const one = (await as(t, admin).get(`/admin/fraud/reviews/${review.id}`).expect(200)).body;
      expect(one.decision.rules.find((r: { ruleId: string }) => r.ruleId === rule.id)).toMatchObject({
        matched: true,
        condition: rule.condition,
      });

      await as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, {}).expect(400);
      await as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, { note: '' }).expect(400);
      await as(t, admin)
        .post(`/admin/fraud/reviews/${review.id}/approve`, { note: 'x'.repeat(2001) })
        .expect(400);

      const attempts = await Promise.all([
        as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, { note: 'looks fine' }),
        as(t, admin).post(`/admin/fraud/reviews/${review.id}/reject`, { note: 'looks bad' }),
        as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, { note: 'looks fine' }),
        as(t, admin).post(`/admin/fraud/reviews/${review.id}/reject`, { note: 'looks bad' }),
      ]);
      const statuses = attempts.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 409, 409, 409]);
      expect(attempts.filter((a) => a.status === 409).every((a) => a.body.code === 'INVALID_STATE')).toBe(true);
      const won = attempts.find((a) => a.status === 200)!.body;
      expect(won).toMatchObject({ id: review.id, decidedBy: admin.id, status: expect.stringMatching(/^(approved|rejected)$/) });
      const application = (await as(t, admin).get(`/admin/reseller-applications/${applicationId}`).expect(200)).body;
      expect(application.status).toBe(won.status === 'rejected' ? 'rejected' : 'submitted');
      const rejections = (await audit(applicationId)).filter((a) => a.action === 'reseller.application_rejected');
      expect(rejections).toHaveLength(won.status === 'rejected' ? 1 : 0);

      const log = await audit(review.id);
      expect(log).toEqual([expect.objectContaining({ action: `fraud.review_${won.status}`, actor_id: admin.id, reason: won.note })]);
      expect((await as(t, admin).get(`/admin/fraud/reviews/${review.id}`).expect(200)).body).toMatchObject({ status: won.status });
      const open = (await as(t, admin).get(`/admin/fraud/reviews?status=open&userId=${applicant.id}`).expect(200)).body;
      expect(open.items).toEqual([]);
      await as(t, admin).post(`/admin/fraud/reviews/${randomUUID()}/approve`, { note: 'x' }).expect(404);
    });
  });

  // Last: moving the business clock expires the sessions above.
  describe('list expiry', () => {
    it('stops matching an entry once it expires; the value can be listed again', async () => {
      const ip = '203.0.113.77';
      const now = Date.parse((await t.http().get('/dev/clock').expect(200)).body.now);
      const entry = (
        await as(t, admin)
          .post('/admin/fraud/lists/ip', { value: ip, reason: 'burst', expiresAt: new Date(now + 3600_000).toISOString() })
          .expect(201)
      ).body;
      expect((await evaluate({ type: 'wholesale_purchase', userId: user.id, ip })).outcome).toBe('BLOCK');

      await t.http().post('/dev/clock').send({ advanceSeconds: 3601 }).expect(200);
      admin = await relogin(t, admin);
      const after = await evaluate({ type: 'wholesale_purchase', userId: user.id, ip });
      expect(after.outcome).toBe('ALLOW');
      expect(after.rules.find((r) => r.name === 'block-listed')?.matched).toBe(false);
      const live = (await as(t, admin).get('/admin/fraud/lists/ip').expect(200)).body.items.map((e: { id: string }) => e.id);
      expect(live).not.toContain(entry.id);
      const all = (await as(t, admin).get('/admin/fraud/lists/ip?includeExpired=true&limit=200').expect(200)).body;
      expect(all.items.map((e: { id: string }) => e.id)).toContain(entry.id);

      const again = (await as(t, admin).post('/admin/fraud/lists/ip', { value: ip, reason: 'again' }).expect(201)).body;
      expect(again.id).not.toBe(entry.id);
      const [closed] = await t.sql<{ removed_at: Date; expires_at: Date }>(
        `SELECT removed_at, expires_at FROM fraud_list_entries WHERE id = $1`,
        [entry.id],
      );
      expect(closed.removed_at).toEqual(closed.expires_at);
      expect((await evaluate({ type: 'wholesale_purchase', userId: user.id, ip })).outcome).toBe('BLOCK');
    });

    it('still finds decisions older than the first windows a page is looked for in', async () => {
      const confirms = (await as(t, admin).get(`/admin/fraud/decisions?userId=${user.id}&eventType=reseller_order_confirm`).expect(200))
        .body;
      expect(confirms.items).toHaveLength(2);
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: 400 * 86400 })
        .expect(200);
      admin = await relogin(t, admin);
      const later = (await as(t, admin).get(`/admin/fraud/decisions?userId=${user.id}&eventType=reseller_order_confirm`).expect(200)).body;
      expect(later.items.map((d: { id: string }) => d.id)).toEqual(confirms.items.map((d: { id: string }) => d.id));
    });
  });
});
