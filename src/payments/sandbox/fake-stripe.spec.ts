import Stripe from 'stripe';
import { parseFormBody } from './form-body';
import { FakeStripe, randomWebhookSecret } from './fake-stripe';

describe('fake Stripe server, through the real stripe SDK', () => {
  let fake: FakeStripe;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await new FakeStripe({ webhookSecret: randomWebhookSecret() }).start();
    stripe = new Stripe('sk_test_fake', { ...fake.clientOptions, maxNetworkRetries: 0, telemetry: false });
  });
  afterAll(() => fake.stop());

  const createIntent = (key: string, amount = 999) =>
    stripe.paymentIntents.create({ amount, currency: 'usd', metadata: { purchase_id: 'p1' } }, { idempotencyKey: key });

  it('parses Stripe form encoding with nested keys and arrays', () => {
    expect(parseFormBody('amount=5&metadata[a]=x&metadata[b]=y%20z&expand[0]=latest_charge&expand[1]=customer')).toEqual({
      amount: '5',
      metadata: { a: 'x', b: 'y z' },
      expand: ['latest_charge', 'customer'],
    });
  });

  it('creates and retrieves PaymentIntents with metadata and a client secret', async () => {
    const pi = await createIntent('k-create');
    expect(pi).toMatchObject({
      object: 'payment_intent',
      amount: 999,
      currency: 'usd',
      status: 'requires_payment_method',
      metadata: { purchase_id: 'p1' },
    });
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    expect((await stripe.paymentIntents.retrieve(pi.id)).id).toBe(pi.id);
  });

  it('replays an Idempotency-Key and refuses it with other parameters', async () => {
    const first = await createIntent('k-replay');
    const again = await createIntent('k-replay');
    expect(again.id).toBe(first.id);
    await expect(createIntent('k-replay', 1999)).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
  });

  it('answers unknown objects and bad parameters with Stripe errors', async () => {
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
      statusCode: 404,
    });
    await expect(stripe.paymentIntents.create({ amount: 0, currency: 'usd' })).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
    const noKey = new Stripe('rk_nope', { ...fake.clientOptions, maxNetworkRetries: 0 });
    await expect(noKey.paymentIntents.retrieve('pi_x')).rejects.toMatchObject({ type: 'StripeAuthenticationError' });
  });

  it('puts the card fingerprint, card country and Radar score on the charge of a paid intent', async () => {
    const pi = await createIntent('k-pay');
    const [chargeEvent, piEvent] = fake.succeed(pi.id, { fingerprint: 'fp_1', country: 'DE', riskScore: 81 });
    expect([chargeEvent.type, piEvent.type]).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
    const paid = await stripe.paymentIntents.retrieve(pi.id);
    expect(paid.status).toBe('succeeded');
    const charge = await stripe.charges.retrieve(paid.latest_charge as string);
    expect(charge.payment_method_details?.card).toMatchObject({ fingerprint: 'fp_1', country: 'DE' });
    expect(charge.outcome?.risk_score).toBe(81);
    expect(() => fake.succeed(pi.id)).toThrow(/status is succeeded/);
  });

  it('refunds what is left once, and refuses to refund a disputed charge', async () => {
    const pi = await createIntent('k-refund');
    fake.succeed(pi.id);
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    expect(refund).toMatchObject({ amount: 999, status: 'succeeded', payment_intent: pi.id });
    expect(fake.eventsOfType('charge.refunded').at(-1)?.data.object).toMatchObject({ amount_refunded: 999, refunded: true });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({ code: 'charge_already_refunded' });

    const disputed = await createIntent('k-disputed');
    fake.succeed(disputed.id);
    expect(fake.dispute(disputed.id).data.object).toMatchObject({
      object: 'dispute',
      status: 'needs_response',
      payment_intent: disputed.id,
    });
    await expect(stripe.refunds.create({ payment_intent: disputed.id })).rejects.toMatchObject({ code: 'charge_disputed' });
    expect(fake.closeDispute(disputed.id, 'won').data.object).toMatchObject({ status: 'won' });
  });

  it('signs events so that the SDK verifies them, and a changed body fails verification', () => {
    const event = fake.emit('customer.created', { id: 'cus_1', object: 'customer' });
    const { payload, header } = fake.sign(event);
    expect(stripe.webhooks.constructEvent(payload, header, fake.webhookSecret).id).toBe(event.id);
    expect(() => stripe.webhooks.constructEvent(payload.replace('cus_1', 'cus_2'), header, fake.webhookSecret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('fails matching requests on demand, without the SDK retrying', async () => {
    const pi = await createIntent('k-fail');
    fake.failRequests(/^GET \/v1\/payment_intents\//);
    await expect(stripe.paymentIntents.retrieve(pi.id)).rejects.toMatchObject({ type: 'StripeAPIError', statusCode: 503 });
    fake.clearFailures();
    expect((await stripe.paymentIntents.retrieve(pi.id)).id).toBe(pi.id);
  });
});
