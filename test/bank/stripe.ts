import type Stripe from 'stripe';
import type { FakeStripe } from '../support/fake-stripe';
import { sleep } from './client';
import type { Nodes } from './nodes';

/**
 * The one fake Stripe every node talks to (STRIPE_API_BASE): the customer pays a PaymentIntent, and
 * its signed events are delivered as Stripe delivers them, to a node, again (on any live node) until
 * one answers 2xx.
 */
export class StripeSide {
  deliveries = 0;
  redeliveries = 0;

  constructor(
    readonly fake: FakeStripe,
    private readonly nodes: Nodes,
  ) {}

  async pay(paymentIntentId: string, fingerprint: string): Promise<void> {
    for (const event of this.fake.succeed(paymentIntentId, { fingerprint })) await this.deliver(event);
  }

  private async deliver(event: Stripe.Event): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.deliveries++;
      if (attempt > 0) this.redeliveries++;
      try {
        const res = await this.fake.deliver(event, `${this.nodes.anyUrl()}/webhooks/stripe`);
        if (res.status < 300) return;
      } catch {
        // connection refused or reset: the node is down; Stripe tries again later
      }
      await sleep(100 + Math.random() * 400);
    }
  }
}
