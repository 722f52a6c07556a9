import { randomUUID } from 'node:crypto';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { FraudService } from '../../src/fraud/fraud.service';
import { FraudEventType, LabelKind } from '../../src/fraud/fraud.types';
import { ResellerStatusService } from '../../src/resellers/lifecycle/reseller-status.service';
import { Actor, as, login, makeAdmin, signInAgain, signUp, verifyEmail } from '../support/market-fixtures';
import {
  advanceDays,
  Applicant,
  APPLICATION,
  apply,
  approvedReseller,
  approveTwice,
  clockNow,
  eligibleApplicant,
  eligibleApplicants,
  enableTotp,
} from '../support/reseller-fixtures';
import { allPages } from '../support/pages';
import { TestApp, useTestApp } from '../support/test-app';

const DAY_MS = 86_400_000;

describe('reseller vetting', () => {
  let t: TestApp;
  let admin1: Actor;
  let admin2: Actor;
  useTestApp((app) => (t = app));

  beforeAll(async () => {
    admin1 = await makeAdmin(t, await signUp(t, 'vetting-admin-1'));
    admin2 = await makeAdmin(t, await signUp(t, 'vetting-admin-2'));
  });

  const admins = () => [admin1, admin2];
  const submit = (a: Actor, body: object = APPLICATION) => as(t, a).post('/reseller-applications', body);
  /** `note` null sends no note at all. */
  const decide = (admin: Actor, id: string, action: 'approve' | 'reject', note: string | null = `${action}: checked`) =>
    as(t, admin).post(`/admin/reseller-applications/${id}/${action}`, note === null ? {} : { note });
  const change = (admin: Actor, id: string, action: 'suspend' | 'reinstate' | 'revoke' | 'renew', note = `${action}: reason`) =>
    as(t, admin).post(`/admin/resellers/${id}/${action}`, { note });
  const reseller = async (id: string) => (await as(t, admin1).get(`/admin/resellers/${id}`).expect(200)).body;
  const application = async (id: string) => (await as(t, admin1).get(`/admin/reseller-applications/${id}`).expect(200)).body;
  const audit = (subjectId: string) =>
    t.sql<{ action: string; actor_id: string | null; reason: string | null; data: Record<string, unknown> }>(
      `SELECT action, actor_id, reason, data FROM audit_log WHERE subject_id = $1 ORDER BY seq`,
      [subjectId],
    );
  const mailKinds = async (email: string): Promise<string[]> =>
    (
      (
        await t
          .http()
          .get(`/dev/mailbox/${encodeURIComponent(email)}`)
          .expect(200)
      ).body.items as { data: { kind: string } }[]
    )
      .map((m) => m.data?.kind)
      .filter((k) => k?.startsWith('reseller.'))
      .sort();
  const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
  const onlyUser = (id: string) => ({ '==': [{ var: 'user.id' }, id] });
  /** An ACTIVE rule for one user; answers its id (switch it off with `disableRule`). */
  const rule = async (eventType: FraudEventType, userId: string, action: 'REVIEW' | 'BLOCK') =>
    (
      await as(t, admin1)
        .post('/admin/fraud/rules', {
          name: `vetting-${randomUUID().slice(0, 8)}`,
          eventTypes: [eventType],
          condition: onlyUser(userId),
          action,
          score: 0,
          mode: 'ACTIVE',
        })
        .expect(201)
    ).body.id as string;
  const disableRule = (id: string) => as(t, admin1).patch(`/admin/fraud/rules/${id}`, { mode: 'DISABLED' }).expect(200);
  const label = (userId: string, kind: LabelKind) =>
    t.app.get(TransactionRunner).run((em) => t.app.get(FraudService).recordLabel(em, { userId, kind, reference: `test:${randomUUID()}` }));
  const failed = (body: { checks: { check: string; value: unknown; required: unknown; passed: boolean }[] }) =>
    Object.fromEntries(body.checks.map((c) => [c.check, { value: c.value, required: c.required, passed: c.passed }]));

  describe('eligibility', () => {
    it('refuses a new account naming every failed check with its value, and stores nothing', async () => {
      const fresh = await signUp(t, 'fresh');
      const res = await submit(fresh).expect(403);
      expect(res.body.code).toBe('NOT_ELIGIBLE');
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(failed(res.body)).toEqual({
        account_age_days: { value: 0, required: 90, passed: false },
        email_verified: { value: false, required: true, passed: false },
        two_factor_days: { value: null, required: 7, passed: false },
      });
      expect((await as(t, fresh).get('/reseller-applications/me').expect(404)).body.code).toBe('NOT_FOUND');
    });

    it('refuses 2FA turned on too recently until it is old enough', async () => {
      const a = await signUp(t, 'young-2fa');
      await verifyEmail(t, a);
      await advanceDays(t, 91, a, ...admins());
      const secret = await enableTotp(t, a);
      expect(secret).toBeTruthy();
      await advanceDays(t, 6, a, ...admins());
      const res = await submit(a).expect(403);
      expect(failed(res.body)).toEqual({ two_factor_days: { value: 6, required: 7, passed: false } });
      await advanceDays(t, 1, a, ...admins());
      expect((await submit(a).expect(201)).body).toMatchObject({ status: 'submitted' });
    });

    it('refuses an account with a chargeback ever, and one with a fraud block within the lookback (until it is older)', async () => {
      const [charged, blocked] = await eligibleApplicants(t, 2, admins(), 'tainted');
      await label(charged.id, 'chargeback');
      const blocking = await rule('wholesale_purchase', blocked.id, 'BLOCK');
      const decision = await t.app
        .get(TransactionRunner)
        .run((em) => t.app.get(FraudService).evaluate(em, { type: 'wholesale_purchase', userId: blocked.id, subjectId: randomUUID() }));
      expect(decision.outcome).toBe('BLOCK');
      await disableRule(blocking);

      expect(failed((await submit(charged).expect(403)).body)).toEqual({ chargebacks: { value: 1, required: 0, passed: false } });
      expect(failed((await submit(blocked).expect(403)).body)).toEqual({ recent_fraud_blocks: { value: 1, required: 0, passed: false } });

      await advanceDays(t, t.config.resellers.fraudBlockLookbackDays + 1, charged, blocked, ...admins());
      await submit(blocked).expect(201);
      expect(failed((await submit(charged).expect(403)).body)).toEqual({ chargebacks: { value: 1, required: 0, passed: false } });
    });

    it('validates the application body', async () => {
      const a = await signUp(t, 'validation');
      const bad: object[] = [
        { ...APPLICATION, regions: [] },
        { ...APPLICATION, regions: ['XX'] },
        { ...APPLICATION, regions: ['DE', 'DE'] },
        { ...APPLICATION, regions: Array.from({ length: 51 }, () => 'DE') },
        { ...APPLICATION, paymentMethods: [] },
        { ...APPLICATION, paymentMethods: ['x'.repeat(61)] },
        { ...APPLICATION, expectedMonthlyVolume: 1.5 },
        { ...APPLICATION, expectedMonthlyVolume: 0 },
        { ...APPLICATION, expectedMonthlyVolume: '100' },
        { ...APPLICATION, businessName: '' },
        { ...APPLICATION, businessName: 'x'.repeat(121) },
        { ...APPLICATION, contact: 'x'.repeat(501) },
        { ...APPLICATION, extra: true },
        { businessName: 'only a name' },
      ];
      for (const body of bad) {
        const res = await submit(a, body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      }
    });
  });

  describe('vetting', () => {
    let applicant: Applicant;
    let linked: Actor;
    beforeAll(async () => {
      applicant = await eligibleApplicant(t, admins());
      // Another account signed in with the applicant's device: linked by the device cluster.
      linked = await signUp(t, 'linked');
      await login(t, linked.email, linked.password, applicant.deviceToken);
    });

    it('stores the application with its check report, shown to admins and not to the applicant', async () => {
      const res = await submit(applicant).expect(201);
      expect(res.body).toMatchObject({ status: 'submitted', businessName: APPLICATION.businessName, regions: ['DE', 'PL'] });
      expect((await submit(applicant).expect(409)).body).toMatchObject({ code: 'CONFLICT', reason: 'APPLICATION_OPEN' });

      const mine = (await as(t, applicant).get('/reseller-applications/me').expect(200)).body;
      expect(mine).toMatchObject({ id: res.body.id, status: 'submitted', resellerStatus: null, earlier: [] });
      expect(mine.checkReport).toBeUndefined();
      expect(mine.decisionNote).toBeUndefined();

      const one = await application(res.body.id);
      expect(one).toMatchObject({ userId: applicant.id, status: 'submitted', fraudReview: null, fraudDecisionId: expect.any(String) });
      const report = one.checkReport;
      expect(report.eligibility.map((c: { check: string; passed: boolean }) => [c.check, c.passed])).toEqual([
        ['account_age_days', true],
        ['email_verified', true],
        ['two_factor_days', true],
        ['chargebacks', true],
        ['recent_fraud_blocks', true],
      ]);
      expect(report.applicationDecision).toMatchObject({ id: one.fraudDecisionId, eventType: 'reseller_application', outcome: 'ALLOW' });
      expect(report.fraudDecisions.map((d: { eventType: string }) => d.eventType)).toContain('login');
      expect(report.securityEvents.map((e: { kind: string }) => e.kind)).toContain('totp_enabled');
      expect(report.linkedAccounts).toContainEqual({ userId: linked.id, via: 'device', value: expect.any(String) });
      expect(report.linkedAccounts).toContainEqual({ userId: linked.id, via: 'ip', value: '127.0.0.0/24' });
      expect(report.payments).toMatchObject({ purchases: 0, succeeded: 0, disputed: 0, chargebacksLost: 0, recent: [] });
    });

    it('needs two different admins; the applicant never decides, even as an admin; audited and emailed', async () => {
      const { id } = (await as(t, applicant).get('/reseller-applications/me').expect(200)).body;
      const self = await makeAdmin(t, applicant);
      expect((await decide(self, id, 'approve').expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_APPLICATION' });
      expect((await decide(self, id, 'reject').expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_APPLICATION' });

      await decide(admin1, id, 'approve', null).expect(400);
      await decide(admin1, id, 'approve', '').expect(400);
      await decide(admin1, id, 'approve', 'x'.repeat(2001)).expect(400);
      expect((await decide(admin1, id, 'approve', 'documents fine').expect(200)).body).toMatchObject({
        status: 'awaiting_second_approval',
        firstApprovedBy: admin1.id,
        firstApprovalNote: 'documents fine',
      });
      expect((await decide(admin1, id, 'approve').expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'SAME_ADMIN' });
      expect((await decide(self, id, 'approve').expect(403)).body.reason).toBe('OWN_APPLICATION');
      const approvedAt = await clockNow(t);
      expect((await decide(admin2, id, 'approve', 'references fine').expect(200)).body).toMatchObject({
        status: 'approved',
        decidedBy: admin2.id,
        decisionNote: 'references fine',
      });
      expect((await decide(admin2, id, 'approve').expect(409)).body.code).toBe('INVALID_STATE');
      expect((await decide(admin2, id, 'reject').expect(409)).body.code).toBe('INVALID_STATE');

      const r = await reseller(applicant.id);
      expect(r).toMatchObject({
        id: applicant.id,
        status: 'active',
        applicationId: id,
        displayName: APPLICATION.businessName,
        regions: ['DE', 'PL'],
      });
      expect(Date.parse(r.probationEndsAt) - approvedAt.getTime()).toBeGreaterThanOrEqual(30 * DAY_MS);
      expect(Date.parse(r.probationEndsAt) - approvedAt.getTime()).toBeLessThan(30 * DAY_MS + 60_000);
      expect(Date.parse(r.vettingDueAt) - Date.parse(r.probationEndsAt)).toBe(60 * DAY_MS);
      expect(r.standing).toEqual({
        takingOrders: true,
        probation: true,
        reason: null,
        orderMax: t.config.resellers.probationOrderMaxCredits,
        dailyMax: t.config.resellers.probationDailyMaxCredits,
      });
      const roles = (
        await as(t, await signInAgain(t, applicant))
          .get('/me')
          .expect(200)
      ).body.roles;
      expect(roles).toContain('reseller');
      expect(await t.app.get(ResellerStatusService).mayStock(applicant.id)).toBe(true);
      expect(
        (
          await as(t, await signInAgain(t, applicant))
            .get('/reseller-applications/me')
            .expect(200)
        ).body,
      ).toMatchObject({
        id,
        status: 'approved',
        resellerStatus: 'active',
      });

      expect((await audit(id)).map((a) => [a.action, a.actor_id, a.reason])).toEqual([
        ['reseller.application_submitted', applicant.id, null],
        ['reseller.application_first_approved', admin1.id, 'documents fine'],
        ['reseller.application_approved', admin2.id, 'references fine'],
      ]);
      expect((await audit(applicant.id)).filter((a) => a.action.startsWith('reseller.')).map((a) => [a.action, a.actor_id])).toEqual([
        ['reseller.approved', admin2.id],
      ]);
      expect(await mailKinds(applicant.email)).toEqual([
        'reseller.application_approved',
        'reseller.application_first_approved',
        'reseller.application_submitted',
      ]);
      expect((await submit(applicant).expect(409)).body).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_RESELLER' });
    });

    it('rejects with a note; the applicant may apply again', async () => {
      const a = await eligibleApplicant(t, admins());
      const id = await apply(t, a);
      await decide(admin1, id, 'reject', '').expect(400);
      expect((await decide(admin1, id, 'reject', 'no references').expect(200)).body).toMatchObject({
        status: 'rejected',
        decidedBy: admin1.id,
        decisionNote: 'no references',
      });
      expect((await decide(admin2, id, 'approve').expect(409)).body.code).toBe('INVALID_STATE');
      expect((await audit(id)).map((e) => [e.action, e.actor_id, e.reason])).toEqual([
        ['reseller.application_submitted', a.id, null],
        ['reseller.application_rejected', admin1.id, 'no references'],
      ]);
      expect(await mailKinds(a.email)).toEqual(['reseller.application_rejected', 'reseller.application_submitted']);
      await as(t, a).get(`/admin/resellers/${a.id}`).expect(403);
      await as(t, admin1).get(`/admin/resellers/${a.id}`).expect(404);
      const again = await apply(t, a);
      const mine = (await as(t, a).get('/reseller-applications/me').expect(200)).body;
      expect(mine).toMatchObject({ id: again, status: 'submitted', resellerStatus: null });
      expect(mine.earlier.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[id, 'rejected']]);
    });

    it('lets only the applicant withdraw, while the application is in progress', async () => {
      const a = await eligibleApplicant(t, admins());
      const id = await apply(t, a);
      await decide(admin1, id, 'approve').expect(200);
      const other = await signUp(t, 'not-the-applicant');
      await as(t, other).post(`/reseller-applications/${id}/withdraw`).expect(404);
      expect((await as(t, a).post(`/reseller-applications/${id}/withdraw`).expect(200)).body).toMatchObject({ id, status: 'withdrawn' });
      expect((await as(t, a).post(`/reseller-applications/${id}/withdraw`).expect(409)).body.code).toBe('INVALID_STATE');
      expect((await decide(admin2, id, 'approve').expect(409)).body.code).toBe('INVALID_STATE');
      expect((await audit(id)).map((e) => e.action)).toEqual([
        'reseller.application_submitted',
        'reseller.application_first_approved',
        'reseller.application_withdrawn',
      ]);
      expect(await mailKinds(a.email)).toContain('reseller.application_withdrawn');
    });
  });

  describe('fraud engine', () => {
    it('BLOCK refuses the application with FRAUD_BLOCKED and stores nothing', async () => {
      const a = await eligibleApplicant(t, admins());
      const blocking = await rule('reseller_application', a.id, 'BLOCK');
      expect((await submit(a).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      await disableRule(blocking);
      await as(t, a).get('/reseller-applications/me').expect(404);
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM reseller_applications WHERE user_id = $1`, [a.id]);
      expect(n).toBe(0);
    });

    it('REVIEW stores the application with a fraud review that must close before approval; its reject rejects the application', async () => {
      const [kept, dropped] = await eligibleApplicants(t, 2, admins(), 'reviewed');
      const rules = [await rule('reseller_application', kept.id, 'REVIEW'), await rule('reseller_application', dropped.id, 'REVIEW')];
      const keptId = await apply(t, kept);
      const droppedId = await apply(t, dropped);
      for (const r of rules) await disableRule(r);

      const one = await application(keptId);
      expect(one.fraudReview).toMatchObject({ status: 'open' });
      expect(one.checkReport.applicationDecision.outcome).toBe('REVIEW');
      expect((await decide(admin1, keptId, 'approve').expect(409)).body).toMatchObject({ code: 'CONFLICT', reason: 'FRAUD_REVIEW_OPEN' });
      await as(t, admin1).post(`/admin/fraud/reviews/${one.fraudReview.id}/approve`, { note: 'known seller' }).expect(200);
      expect((await application(keptId)).status).toBe('submitted');
      await approveTwice(t, keptId, admin1, admin2);
      expect((await reseller(kept.id)).status).toBe('active');

      const review = (await application(droppedId)).fraudReview;
      await as(t, admin2).post(`/admin/fraud/reviews/${review.id}/reject`, { note: 'mule ring' }).expect(200);
      expect(await application(droppedId)).toMatchObject({ status: 'rejected', decidedBy: admin2.id, fraudReview: { status: 'rejected' } });
      expect(await mailKinds(dropped.email)).toContain('reseller.application_rejected');
    });
  });

  describe('lifecycle', () => {
    it('suspends, reinstates and revokes with notes (role taken back); a revoked reseller is approved again by a new application', async () => {
      const { reseller: r } = await approvedReseller(t, admin1, admin2);
      await change(admin1, r.id, 'reinstate').expect(409);
      expect((await change(admin1, r.id, 'suspend', 'complaints').expect(200)).body).toMatchObject({
        status: 'suspended',
        statusReason: 'complaints',
        statusChangedBy: admin1.id,
        standing: { takingOrders: false, reason: 'not_active' },
      });
      expect(await t.app.get(ResellerStatusService).mayStock(r.id)).toBe(false);
      await change(admin1, r.id, 'suspend').expect(409);
      expect((await change(admin2, r.id, 'reinstate', 'resolved').expect(200)).body).toMatchObject({
        status: 'active',
        standing: { takingOrders: true },
      });
      expect((await change(admin2, r.id, 'revoke', 'fraud confirmed').expect(200)).body).toMatchObject({ status: 'revoked' });
      await change(admin2, r.id, 'revoke').expect(409);
      await change(admin2, r.id, 'renew').expect(409);
      expect(
        (
          await as(t, await signInAgain(t, r))
            .get('/me')
            .expect(200)
        ).body.roles,
      ).not.toContain('reseller');
      expect((await audit(r.id)).filter((a) => a.action.startsWith('reseller.')).map((a) => [a.action, a.actor_id, a.reason])).toEqual([
        ['reseller.approved', admin2.id, expect.any(String)],
        ['reseller.suspended', admin1.id, 'complaints'],
        ['reseller.reinstated', admin2.id, 'resolved'],
        ['reseller.revoked', admin2.id, 'fraud confirmed'],
      ]);
      expect(await mailKinds(r.email)).toEqual(expect.arrayContaining(['reseller.suspended', 'reseller.reinstated', 'reseller.revoked']));

      const again = await apply(t, await signInAgain(t, r));
      await approveTwice(t, again, admin1, admin2);
      expect(await reseller(r.id)).toMatchObject({ status: 'active', applicationId: again, statusReason: null });
      expect((await audit(r.id)).map((a) => a.action)).toContain('reseller.reapproved');
      expect(
        (
          await as(t, await signInAgain(t, r))
            .get('/me')
            .expect(200)
        ).body.roles,
      ).toContain('reseller');
    });

    it('stops new orders once re-vetting is overdue, until an admin renews (with a fresh check report in the audit entry)', async () => {
      const { reseller: r } = await approvedReseller(t, admin1, admin2);
      await advanceDays(t, t.config.resellers.probationDays + 1, ...admins());
      expect((await reseller(r.id)).standing).toMatchObject({
        takingOrders: true,
        probation: false,
        orderMax: t.config.resellers.orderMaxCredits,
      });
      await advanceDays(t, t.config.resellers.revetDays - t.config.resellers.probationDays, ...admins());
      expect((await reseller(r.id)).standing).toEqual({
        takingOrders: false,
        probation: false,
        reason: 'vetting_overdue',
        orderMax: null,
        dailyMax: null,
      });

      const renewedAt = await clockNow(t);
      const renewed = (await change(admin1, r.id, 'renew', 're-vetted: documents current').expect(200)).body;
      expect(renewed.standing).toMatchObject({ takingOrders: true, probation: false });
      expect(Date.parse(renewed.vettingDueAt) - renewedAt.getTime()).toBeGreaterThanOrEqual(t.config.resellers.revetDays * DAY_MS);
      const [entry] = (await audit(r.id)).filter((a) => a.action === 'reseller.renewed');
      expect(entry).toMatchObject({ actor_id: admin1.id, reason: 're-vetted: documents current' });
      const report = entry.data.checkReport as { eligibility: { check: string }[]; securityEvents: { kind: string }[] };
      expect(report.eligibility).toHaveLength(5);
      expect(report.securityEvents.map((e) => e.kind)).toContain('totp_enabled');
      expect(await mailKinds(r.email)).toContain('reseller.renewed');
    });

    it('pages the admin lists of applications and resellers, filtered by status', async () => {
      const items = (
        await allPages<{ id: string; checkReport?: unknown }>((u) => as(t, admin1).get(u), '/admin/reseller-applications', 2, 50)
      ).flat();
      expect(items.every((a) => a.checkReport === undefined)).toBe(true);
      const all = items.map((a) => a.id);
      const [{ n: total }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM reseller_applications`);
      expect(new Set(all).size).toBe(total);
      const approved = (await as(t, admin1).get('/admin/reseller-applications?status=approved&limit=200').expect(200)).body.items;
      expect(approved.length).toBeGreaterThan(0);
      expect(approved.every((a: { status: string }) => a.status === 'approved')).toBe(true);

      const first = (await as(t, admin1).get('/admin/resellers?status=active&limit=1').expect(200)).body;
      expect(first.items).toHaveLength(1);
      const second = (await as(t, admin1).get(`/admin/resellers?status=active&limit=1&cursor=${first.nextCursor}`).expect(200)).body;
      expect(second.items[0].id > first.items[0].id).toBe(true);
      expect(second.items.every((r: { status: string }) => r.status === 'active')).toBe(true);
      await as(t, admin1).get('/admin/resellers?cursor=bad').expect(400);
      await as(t, admin1).get('/admin/reseller-applications?status=nope').expect(400);
      await as(t, await signUp(t, 'not-admin'))
        .get('/admin/reseller-applications')
        .expect(403);
    });
  });

  describe('automatic suspension', () => {
    it('suspends on an admin account hold (system actor, reason recorded); reinstatement waits for the release', async () => {
      const { reseller: r } = await approvedReseller(t, admin1, admin2);
      await runJobs();
      expect((await reseller(r.id)).status).toBe('active');
      await as(t, admin1).post(`/admin/users/${r.id}/hold`, { reason: 'stolen card reports' }).expect(200);
      await runJobs();
      const suspended = await reseller(r.id);
      expect(suspended).toMatchObject({ status: 'suspended', statusChangedBy: null, standing: { takingOrders: false } });
      expect(suspended.statusReason).toMatch(/^automatic: account_hold: admin: stolen card reports/);
      const [entry] = (await audit(r.id)).filter((a) => a.action === 'reseller.suspended');
      expect(entry).toMatchObject({ actor_id: null, data: expect.objectContaining({ automatic: true }) });
      expect(await mailKinds(r.email)).toContain('reseller.suspended');

      expect((await change(admin1, r.id, 'reinstate').expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'FLAGGED' });
      await as(t, admin1).post(`/admin/users/${r.id}/release`, { reason: 'cleared' }).expect(200);
      await change(admin1, r.id, 'reinstate', 'hold cleared').expect(200);
      await runJobs();
      expect((await reseller(r.id)).status).toBe('active');
    });

    it('suspends on a confirmed_takeover label recorded after approval; an admin may reinstate once it is dealt with', async () => {
      const { reseller: r } = await approvedReseller(t, admin1, admin2);
      await as(t, admin1).post('/admin/fraud/labels', { userId: r.id, label: 'confirmed_takeover', note: 'owner confirmed' }).expect(201);
      await runJobs();
      const suspended = await reseller(r.id);
      expect(suspended.status).toBe('suspended');
      expect(suspended.statusReason).toMatch(/confirmed_takeover/);
      await change(admin2, r.id, 'reinstate', 'owner recovered the account').expect(200);
      await runJobs();
      expect((await reseller(r.id)).status).toBe('active');
    });
  });

  // Last: it fills the program up to its cap.
  describe('cap', () => {
    it(`refuses the approval beyond RESELLER_CAP even when two final approvals race`, async () => {
      const cap = t.config.resellers.cap;
      const seated = async () =>
        (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM resellers WHERE status IN ('active', 'suspended')`))[0].n;
      const free = cap - (await seated());
      const people = await eligibleApplicants(t, free + 1, admins(), 'cap');
      for (const p of people.slice(0, free - 1)) await approvedReseller(t, admin1, admin2, p);
      expect(await seated()).toBe(cap - 1);

      const racing = people.slice(free - 1);
      const ids = [];
      for (const p of racing) {
        const id = await apply(t, p);
        await decide(admin1, id, 'approve').expect(200);
        ids.push(id);
      }
      const results = await Promise.all(ids.map((id) => decide(admin2, id, 'approve')));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const lost = results.find((r) => r.status === 409)!;
      expect(lost.body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'cap', cap });
      expect(await seated()).toBe(cap);
      const loser = ids[results.indexOf(lost)];
      expect((await application(loser)).status).toBe('awaiting_second_approval');

      // A revocation frees a seat: the waiting application can be approved then.
      const winner = racing[results.findIndex((r) => r.status === 200)];
      await change(admin1, winner.id, 'revoke').expect(200);
      await decide(admin2, loser, 'approve').expect(200);
      expect(await seated()).toBe(cap);
    });
  });
});
