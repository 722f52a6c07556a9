import { deliverEvent, FakeStripe, startFakeStripe } from './fake-stripe';
import { Actor, as, balance, makeAdmin, signInAgain, signUp } from './market-fixtures';
import {
  advanceDays,
  Applicant,
  APPLICATION,
  approvedReseller,
  apply,
  approveTwice,
  eligibleApplicants,
  inBatches,
} from './reseller-fixtures';
import { startTestApp, TestApp } from './test-app';

/**
 * Resellers for the suites about what resellers do, made only through the real flows: vetted and
 * approved over HTTP by two admins, stock bought as wholesale packages through the fake Stripe and the
 * webhook (the mint credits `reseller_stock`), the bond locked through POST /reseller/bond from a
 * wallet filled by a token purchase. Ageing accounts and leaving probation move the business clock by
 * months, so a suite makes its pool once in beforeAll and takes a reseller per test.
 */
export interface PoolSizes {
  /** Approved before the clock leaves probation behind: out of probation, re-vetting not due. */
  ready?: number;
  /** Approved before a jump past RESELLER_REVET_DAYS and not renewed: re-vetting overdue. */
  overdue?: number;
  /** Eligible applicants approved when taken: fresh approvals, in probation (or taken as applicants). */
  fresh?: number;
}

export interface ResellerOptions {
  /** Credits bought as one wholesale package into reseller_stock (default 500,000; 0: none). */
  stock?: number;
  /** Lock the bond (default true). */
  bond?: boolean;
  /** A fresh approval, in probation (default false). */
  probation?: boolean;
  /** Re-vetting overdue (default false). */
  vettingOverdue?: boolean;
  /** The business name applied with (a fresh approval only: the others applied in beforeAll). */
  displayName?: string;
}

export const DEFAULT_STOCK = 500_000;

export class ResellerPool {
  private readonly packages = new Map<number, string>();
  private bondPackage: string | undefined;

  private constructor(
    private readonly t: TestApp,
    private readonly fake: FakeStripe,
    private readonly vetters: [Actor, Actor],
    private readonly ready: Applicant[],
    private readonly overdue: Applicant[],
    private readonly fresh: Applicant[],
  ) {}

  /** Every account made and aged at once; `ready` and `overdue` approved, then the clock moved past probation (and re-vetting if needed). */
  static async create(t: TestApp, fake: FakeStripe, sizes: PoolSizes): Promise<ResellerPool> {
    const { ready = 0, overdue = 0, fresh = 0 } = sizes;
    const vetters: [Actor, Actor] = [await makeAdmin(t, await signUp(t, 'vetter')), await makeAdmin(t, await signUp(t, 'vetter'))];
    const people = await eligibleApplicants(t, ready + overdue + fresh, vetters, 'reseller');
    const pool = new ResellerPool(
      t,
      fake,
      vetters,
      people.slice(0, ready),
      people.slice(ready, ready + overdue),
      people.slice(ready + overdue),
    );
    await inBatches([...pool.ready, ...pool.overdue], 4, (a) => approvedReseller(t, vetters[0], vetters[1], a));
    const r = t.config.resellers;
    if (overdue > 0) {
      if (r.revetDays <= r.probationDays) throw new Error('the pool assumes RESELLER_REVET_DAYS > RESELLER_PROBATION_DAYS');
      await advanceDays(t, r.revetDays + 1, ...vetters);
      await inBatches(pool.ready, 4, (a) =>
        as(t, vetters[0]).post(`/admin/resellers/${a.id}/renew`, { note: 'periodic re-vetting: fine' }).expect(200),
      );
    } else if (ready > 0) {
      await advanceDays(t, r.probationDays + 1, ...vetters);
    }
    return pool;
  }

  /** An eligible applicant who has not applied yet (from the `fresh` part of the pool). */
  applicant(): Applicant {
    return take(this.fresh, 'fresh');
  }

  /** A reseller as the options ask, with a fresh access token. */
  async take(opts: ResellerOptions = {}): Promise<Applicant> {
    if (opts.displayName && !opts.probation) throw new Error('displayName: only a fresh approval (probation: true) applies when taken');
    let r: Applicant;
    if (opts.probation) {
      const applicant = this.applicant();
      const vetters = await this.signedInVetters();
      await signInAgain(this.t, applicant);
      const applicationId = await apply(this.t, applicant, {
        ...APPLICATION,
        businessName: opts.displayName ?? `Fresh ${applicant.id.slice(0, 8)}`,
      });
      await approveTwice(this.t, applicationId, ...vetters);
      r = applicant;
    } else {
      r = opts.vettingOverdue ? take(this.overdue, 'overdue') : take(this.ready, 'ready');
    }
    await signInAgain(this.t, r);
    const stock = opts.stock ?? DEFAULT_STOCK;
    const bond = opts.bond ?? true;
    if (stock > 0) await this.pay(r, '/reseller/wholesale-purchases', await this.wholesalePackage(stock));
    if (bond) await this.pay(r, '/token-purchases', await this.bondWalletPackage());
    // The webhook queued the events; their job credits the stock and the wallet.
    if (stock > 0 || bond) await this.t.http().post('/dev/jobs/run').expect(200);
    if (bond) {
      const locked = await as(this.t, r).post('/reseller/bond');
      if (locked.status !== 200) throw new Error(`bond: ${locked.status} ${JSON.stringify(locked.body)}`);
    }
    const inStock = await balance(this.t, r.id, 'CREDIT', 'reseller_stock');
    if (inStock !== BigInt(stock)) throw new Error(`stock: ${inStock}, not ${stock}`);
    return r;
  }

  /** Buys a package (wholesale or token) and pays it: the fake Stripe's success and its webhook. */
  private async pay(r: Actor, route: string, packageId: string): Promise<void> {
    const created = await as(this.t, r).post(route, { packageId });
    if (created.status !== 201) throw new Error(`${route}: ${created.status} ${JSON.stringify(created.body)}`);
    const [, succeeded] = this.fake.succeed(created.body.paymentIntentId, { fingerprint: `fp_pool_${r.id.slice(0, 8)}` });
    await deliverEvent(this.t, this.fake, succeeded).expect(200);
  }

  private async wholesalePackage(credits: number): Promise<string> {
    const known = this.packages.get(credits);
    if (known) return known;
    const id = await this.createPackage({
      name: `Wholesale ${credits}`,
      credits,
      priceCents: Math.ceil(credits / 100),
      audience: 'reseller',
    });
    this.packages.set(credits, id);
    return id;
  }

  /** A public token package worth exactly the bond, without PROMO. */
  private async bondWalletPackage(): Promise<string> {
    this.bondPackage ??= await this.createPackage({
      name: 'Bond credits',
      credits: this.t.config.resellers.bondCredits,
      priceCents: Math.ceil(this.t.config.resellers.bondCredits / 100),
      bonusPromo: 0,
    });
    return this.bondPackage;
  }

  private async createPackage(body: object): Promise<string> {
    const [admin] = await this.signedInVetters();
    return (
      await as(this.t, admin)
        .post('/admin/token-packages', { currency: 'USD', ...body })
        .expect(201)
    ).body.id;
  }

  /** The vetters with fresh tokens (the suite may have moved the clock past them). */
  private async signedInVetters(): Promise<[Actor, Actor]> {
    for (const v of this.vetters) await signInAgain(this.t, v);
    return this.vetters;
  }
}

function take(from: Applicant[], part: keyof PoolSizes): Applicant {
  const next = from.shift();
  if (!next) throw new Error(`the reseller pool ran out of '${part}' resellers: raise its size`);
  return next;
}

export interface ResellerSuite {
  t: TestApp;
  fake: FakeStripe;
  pool: ResellerPool;
}

/**
 * Boots the app against the fake Stripe for the enclosing describe block, with the pool made in its
 * beforeAll; `use` receives both once up. RESELLER_CAP is raised to fit the pool.
 */
export function useResellerSuite(use: (s: ResellerSuite) => void, sizes: PoolSizes, env: Record<string, string> = {}): void {
  let t: TestApp | undefined;
  let fake: FakeStripe | undefined;
  beforeAll(async () => {
    const started = await startFakeStripe();
    fake = started.fake;
    const seats = (sizes.ready ?? 0) + (sizes.overdue ?? 0) + (sizes.fresh ?? 0);
    t = await startTestApp({ ...started.env, RESELLER_CAP: String(Math.max(20, seats)), ...env });
    use({ t, fake, pool: await ResellerPool.create(t, fake, sizes) });
    // Vetting, stocking and bonding a pool of resellers through HTTP takes a while on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });
}
