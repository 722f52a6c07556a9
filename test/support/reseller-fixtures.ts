import { generate } from 'otplib';
import { IdentityService } from '../../src/identity/identity.service';
import { Actor, as, signInAgain, signUp, verifyEmail } from './market-fixtures';
import { TestApp } from './test-app';

/**
 * Reseller applicants and resellers through the real HTTP flow (POST /reseller-applications and the
 * two admins' approvals). Moving the business clock expires every access token, so the helpers that
 * move it sign the actors they are given in again, in place.
 */

export interface Applicant extends Actor {
  totpSecret: string;
}

export interface ApprovedReseller {
  reseller: Applicant;
  applicationId: string;
}

export const APPLICATION = {
  businessName: 'Credits Corner',
  regions: ['DE', 'PL'],
  paymentMethods: ['bank transfer', 'cash deposit'],
  expectedMonthlyVolume: 500_000,
  contact: 'telegram @credits_corner',
};

export async function clockNow(t: TestApp): Promise<Date> {
  return new Date((await t.http().get('/dev/clock').expect(200)).body.now);
}

/** A TOTP code for `secret` at the business clock's time. */
export async function totpCode(t: TestApp, secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor((await clockNow(t)).getTime() / 1000) });
}

/**
 * `fn` over the items, `size` at a time (in order of the items): fixtures that make many accounts wait
 * on round trips more than on the CPU. Keep `size` well under the connection pool (10 in tests).
 */
export async function inBatches<T, R>(items: T[], size: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((x, j) => fn(x, i + j)))));
  return out;
}

/** Moves the business clock forward and gives each actor a fresh access token (mutating `actors`). */
export async function advanceClock(t: TestApp, seconds: number, ...actors: Actor[]): Promise<void> {
  await t.http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
  await inBatches(actors, 4, (a) => signInAgain(t, a));
}

export async function advanceDays(t: TestApp, days: number, ...actors: Actor[]): Promise<void> {
  await advanceClock(t, Math.round(days * 86_400), ...actors);
}

/** Turns 2FA on through enroll + confirm. */
export async function enableTotp(t: TestApp, a: Actor): Promise<string> {
  const { secret } = (await as(t, a).post('/auth/2fa/totp/enroll').expect(200)).body as { secret: string };
  await as(t, a)
    .post('/auth/2fa/totp/confirm', { code: await totpCode(t, secret) })
    .expect(204);
  return secret;
}

/**
 * `n` accounts that pass every eligibility check: email verified, 2FA on, then the clock moved past
 * both RESELLER_MIN_ACCOUNT_AGE_DAYS and RESELLER_MIN_2FA_DAYS (one move for all). `keepSignedIn`
 * (admins, say) get fresh tokens after the move.
 */
export async function eligibleApplicants(t: TestApp, n: number, keepSignedIn: Actor[] = [], label = 'applicant'): Promise<Applicant[]> {
  const people = await inBatches(Array.from({ length: n }), 4, async (_, i): Promise<Applicant> => {
    const a = await signUp(t, `${label}-${i}`);
    await verifyEmail(t, a);
    return { ...a, totpSecret: await enableTotp(t, a) };
  });
  const r = t.config.resellers;
  await advanceDays(t, Math.max(r.minAccountAgeDays, r.minTwoFactorDays) + 1, ...people, ...keepSignedIn);
  return people;
}

export async function eligibleApplicant(t: TestApp, keepSignedIn: Actor[] = []): Promise<Applicant> {
  return (await eligibleApplicants(t, 1, keepSignedIn))[0];
}

/** Submits an application (201) and answers its id. */
export async function apply(t: TestApp, a: Actor, body: object = APPLICATION): Promise<string> {
  return (await as(t, a).post('/reseller-applications', body).expect(201)).body.id as string;
}

/** The first approval by `admin1`, the final one by `admin2`. */
export async function approveTwice(t: TestApp, applicationId: string, admin1: Actor, admin2: Actor): Promise<void> {
  await as(t, admin1).post(`/admin/reseller-applications/${applicationId}/approve`, { note: 'first look: fine' }).expect(200);
  await as(t, admin2).post(`/admin/reseller-applications/${applicationId}/approve`, { note: 'second look: fine' }).expect(200);
}

/** An active reseller: an eligible applicant, applied and approved by two admins (whose tokens are renewed in place). */
export async function approvedReseller(t: TestApp, admin1: Actor, admin2: Actor, applicant?: Applicant): Promise<ApprovedReseller> {
  const reseller = applicant ?? (await eligibleApplicant(t, [admin1, admin2]));
  const applicationId = await apply(t, reseller, { ...APPLICATION, businessName: `Credits ${reseller.id.slice(0, 8)}` });
  await approveTwice(t, applicationId, admin1, admin2);
  // The role is in the access token: sign in again to act as a reseller.
  await signInAgain(t, reseller);
  return { reseller, applicationId };
}

/**
 * The `reseller` role alone, granted as the final approval grants it (IdentityService.addRole), for
 * suites about what the role means elsewhere (no gifts to resellers, the admin roles route refusing
 * it) that must not move the business clock; a suite about resellers approves them (approvedReseller).
 */
export async function grantResellerRole(t: TestApp, userId: string): Promise<void> {
  await t.dataSource.transaction((em) => t.app.get(IdentityService).addRole(em, userId, 'reseller'));
}
