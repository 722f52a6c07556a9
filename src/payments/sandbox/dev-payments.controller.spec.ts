import { AppError } from '../../common/errors';
import type { StripeConnection } from '../stripe/stripe.connection';
import { DevPaymentsController } from './dev-payments.controller';
import { FakeStripe, randomWebhookSecret } from './fake-stripe';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
  return undefined;
};

describe('sandbox dev routes', () => {
  it('refuse to play the bank when the server talks to real Stripe', async () => {
    const keyed = new DevPaymentsController({ sandbox: undefined } as StripeConnection);
    expect(await codeOf(keyed.succeed('pi_1', {}))).toBe('INVALID_STATE');
  });

  it('answer NOT_FOUND for a PaymentIntent the sandbox does not know', async () => {
    const sandbox = new FakeStripe({ webhookSecret: randomWebhookSecret() });
    const controller = new DevPaymentsController({ sandbox } as unknown as StripeConnection);
    expect(await codeOf(controller.succeed('pi_missing', {}))).toBe('NOT_FOUND');
    expect(await codeOf(controller.dispute('pi_missing', { close: 'won' }))).toBe('NOT_FOUND');
  });
});
