import type { HttpAdapterHost } from '@nestjs/core';
import { AppError } from '../../common/errors';
import { loadConfig } from '../../config/app-config';
import { FakeStripe, randomWebhookSecret } from '../sandbox/fake-stripe';
import { MemorySandboxStore } from '../sandbox/sandbox-store';
import { StripeConnection } from './stripe.connection';
import { StripeGateway } from './stripe.gateway';

const baseEnv = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
  JWT_SECRET: 'x'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const noServer = { httpAdapter: undefined } as unknown as HttpAdapterHost;

const errorOf = async (p: Promise<unknown>): Promise<AppError> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
};

describe('Stripe gateway', () => {
  let fake: FakeStripe;
  let connection: StripeConnection;
  let gateway: StripeGateway;

  beforeAll(async () => {
    fake = await new FakeStripe({ webhookSecret: randomWebhookSecret() }).start();
    // The keyed configuration, with STRIPE_API_BASE pointing the SDK at the fake instead of api.stripe.com.
    const config = loadConfig({
      ...baseEnv,
      STRIPE_SECRET_KEY: 'sk_test_unit',
      STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
      STRIPE_API_BASE: fake.url,
    });
    connection = await StripeConnection.create(config, noServer, new MemorySandboxStore());
    gateway = new StripeGateway(connection);
  });
  afterAll(() => fake.stop());

  it('creates the PaymentIntent with our ids in metadata, the currency lower-cased and Stripe idempotency on the purchase id', async () => {
    const args = { purchaseId: 'pur-1', userId: 'user-1', packageId: 'pkg-1', amountCents: 999n, currency: 'USD', description: 'x' };
    const first = await gateway.createPaymentIntent(args);
    const again = await gateway.createPaymentIntent(args);
    expect(again).toEqual(first);
    expect(fake.paymentIntent(first.id)).toMatchObject({
      amount: 999,
      currency: 'usd',
      metadata: { purchase_id: 'pur-1', user_id: 'user-1', package_id: 'pkg-1' },
    });
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.params.description === 'x');
    expect(creates.map((r) => r.idempotencyKey)).toEqual(['token_purchase:pur-1', 'token_purchase:pur-1']);
  });

  it('answers the purchase id asked again with other terms IDEMPOTENCY_KEY_REUSED (422), as Stripe refuses it', async () => {
    const args = { purchaseId: 'pur-3', userId: 'u', packageId: 'pkg-a', amountCents: 999n, currency: 'usd', description: 'z' };
    await gateway.createPaymentIntent(args);
    const err = await errorOf(gateway.createPaymentIntent({ ...args, packageId: 'pkg-b', amountCents: 1999n }));
    expect([err.code, err.status]).toEqual(['IDEMPOTENCY_KEY_REUSED', 422]);
  });

  it('reads card fingerprint, country and risk score from the charge', async () => {
    const pi = await gateway.createPaymentIntent({
      purchaseId: 'pur-2',
      userId: 'u',
      packageId: 'p',
      amountCents: 499n,
      currency: 'usd',
      description: 'y',
    });
    fake.succeed(pi.id, { fingerprint: 'fp_abc', country: 'br', riskScore: 64 });
    const chargeId = fake.paymentIntent(pi.id).latest_charge as string;
    expect(await gateway.retrieveCharge(chargeId)).toEqual({
      chargeId,
      paymentIntentId: pi.id,
      amount: 499n,
      currency: 'usd',
      amountRefunded: 0n,
      fullyRefunded: false,
      cardFingerprint: 'fp_abc',
      cardCountry: 'BR',
      riskScore: 64,
    });
    const refund = await gateway.refundPayment({ purchaseId: 'pur-2', paymentIntentId: pi.id });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 499n });
    expect(fake.requests.at(-1)?.idempotencyKey).toBe('token_purchase:pur-2:refund');
  });

  it('turns Stripe failures into 502 UPSTREAM_UNAVAILABLE', async () => {
    fake.failRequests(/charges/);
    try {
      const err = await errorOf(gateway.retrieveCharge('ch_any'));
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(err.status).toBe(502);
    } finally {
      fake.clearFailures();
    }
  });

  it('accepts only events signed with the webhook secret over the exact body', async () => {
    const event = fake.emit('payment_intent.created', { id: 'pi_1', object: 'payment_intent' });
    const { payload, header } = fake.sign(event);
    expect(gateway.verifyEvent(Buffer.from(payload), header).id).toBe(event.id);

    const forged = new FakeStripe({ webhookSecret: randomWebhookSecret() }).sign(event);
    const tooOld = fake.sign(event, Math.floor(Date.now() / 1000) - 3600);
    for (const [body, sig] of [
      [Buffer.from(payload), forged.header],
      [Buffer.from(payload.replace('pi_1', 'pi_2')), header],
      [Buffer.from(payload), tooOld.header],
      [Buffer.from(payload), undefined],
      [undefined, header],
      [Buffer.from('not json'), header],
    ] as const) {
      expect(() => gateway.verifyEvent(body, sig)).toThrow(expect.objectContaining({ code: 'WEBHOOK_SIGNATURE_INVALID', status: 400 }));
    }
  });

  it('runs its own sandbox without STRIPE_SECRET_KEY and stops it on shutdown', async () => {
    const store = new MemorySandboxStore();
    const sandboxed = await StripeConnection.create(loadConfig(baseEnv), noServer, store);
    try {
      expect(sandboxed.sandbox).toBeDefined();
      expect(sandboxed.webhookSecret).toMatch(/^whsec_/);
      const pi = await new StripeGateway(sandboxed).createPaymentIntent({
        purchaseId: 'p',
        userId: 'u',
        packageId: 'k',
        amountCents: 100n,
        currency: 'EUR',
        description: 'z',
      });
      expect(store.findNow(pi.id)).toMatchObject({ object: 'payment_intent', currency: 'eur' });
    } finally {
      await sandboxed.onModuleDestroy();
    }
    expect(() => sandboxed.sandbox!.url).toThrow(/not started/);
  });
});
