import type Stripe from 'stripe';
import { FakeStripe, randomWebhookSecret } from '../../src/payments/sandbox/fake-stripe';
import type { TestApp } from './test-app';

export { FakeStripe } from '../../src/payments/sandbox/fake-stripe';

/**
 * The Stripe sandbox's fake server (the same implementation the server runs without
 * STRIPE_SECRET_KEY), started on its own, plus the env that makes the app talk to it as if it
 * were Stripe: a key, a webhook secret and STRIPE_API_BASE.
 */
export async function startFakeStripe(): Promise<{ fake: FakeStripe; env: Record<string, string> }> {
  const fake = await new FakeStripe({ webhookSecret: randomWebhookSecret() }).start();
  return {
    fake,
    env: { STRIPE_SECRET_KEY: 'sk_test_e2e', STRIPE_WEBHOOK_SECRET: fake.webhookSecret, STRIPE_API_BASE: fake.url },
  };
}

/** Posts an event to the app's webhook route exactly as Stripe would: signed raw JSON. */
export function deliverEvent(t: TestApp, fake: FakeStripe, event: Stripe.Event, signature?: string) {
  const { payload, header } = fake.sign(event);
  return t
    .http()
    .post('/webhooks/stripe')
    .set('Content-Type', 'application/json; charset=utf-8')
    .set('Stripe-Signature', signature ?? header)
    .send(payload);
}
