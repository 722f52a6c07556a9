import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { FormValue } from './form-body';

export type JsonObject = Record<string, FormValue>;
/** A Stripe object in Stripe's JSON shape (only the fields Bazaar and a typical client read). */
export type StripeObject = Record<string, unknown> & { id: string; object: string };
type Obj = StripeObject;

/** An error the fake answers in Stripe's error format. */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/** What the customer's card looks like to Stripe (Radar score and card details on the charge). */
export interface FakeCard {
  fingerprint?: string;
  country?: string;
  riskScore?: number;
}

const id = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;
// eslint-disable-next-line no-restricted-properties -- Stripe's timestamps are its own wall-clock time, not our business time
const unix = (): number => Math.floor(Date.now() / 1000);
const copy = <T>(v: T): T => structuredClone(v);

const missing = (param: string) =>
  new FakeStripeError(400, 'invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param);
const noSuch = (what: string, value: string, param = 'id') =>
  new FakeStripeError(404, 'invalid_request_error', `No such ${what}: '${value}'`, 'resource_missing', param);
const badState = (message: string, code = 'payment_intent_unexpected_state') =>
  new FakeStripeError(400, 'invalid_request_error', message, code);

function positiveInt(params: JsonObject, name: string, required: boolean): number | undefined {
  const raw = params[name];
  if (raw === undefined) {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new FakeStripeError(400, 'invalid_request_error', `Invalid integer: ${String(raw)}`, 'parameter_invalid_integer', name);
  }
  return Number(raw);
}

function stringMap(value: FormValue | undefined): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The objects one scenario works on: a PaymentIntent and everything about it (its charge, refunds,
 * dispute, events), read by the store before the scenario runs and saved after it. The store
 * serializes scenarios on one PaymentIntent (across processes, for the PostgreSQL store), so a
 * scenario reads and changes its objects as if alone. A changed object must be `put` back.
 */
export interface SandboxObjects {
  get(id: string): StripeObject | undefined;
  /** This PaymentIntent's objects of one kind (`dispute`, ...). */
  ofKind(kind: string): StripeObject[];
  put(obj: StripeObject): void;
  record(event: Stripe.Event): void;
}

/** The PaymentIntent an object belongs to (its group in a store); none for an object of another kind. */
export function paymentIntentOf(obj: Record<string, unknown>): string | undefined {
  if (obj.object === 'payment_intent') return obj.id as string;
  return typeof obj.payment_intent === 'string' ? obj.payment_intent : undefined;
}

/** A Stripe event about `object` (a copy of it, as Stripe sends). */
export function stripeEvent(type: string, object: Record<string, unknown>): Stripe.Event {
  return {
    id: id('evt'),
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: unix(),
    data: { object: copy(object) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as unknown as Stripe.Event;
}

/**
 * The API calls that change objects and the scenarios of the customer's bank, on the objects of
 * one PaymentIntent. Objects are copied into events, as Stripe does.
 */
export class FakeStripeScenarios {
  constructor(private readonly objs: SandboxObjects) {}

  private emit(type: string, object: Obj): Stripe.Event {
    const event = stripeEvent(type, object);
    this.objs.record(event);
    return event;
  }

  createPaymentIntent(params: JsonObject): Stripe.PaymentIntent {
    const amount = positiveInt(params, 'amount', true)!;
    const currency = params.currency;
    if (typeof currency !== 'string') throw missing('currency');
    if (!/^[a-z]{3}$/.test(currency))
      throw new FakeStripeError(400, 'invalid_request_error', `Invalid currency: ${currency}.`, 'parameter_invalid', 'currency');
    const piId = id('pi');
    const pi: Obj = {
      id: piId,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      currency,
      status: 'requires_payment_method',
      client_secret: `${piId}_secret_${randomBytes(12).toString('hex')}`,
      description: typeof params.description === 'string' ? params.description : null,
      metadata: stringMap(params.metadata),
      latest_charge: null,
      last_payment_error: null,
      automatic_payment_methods: { enabled: true },
      created: unix(),
      livemode: false,
    };
    this.objs.put(pi);
    return copy(pi) as unknown as Stripe.PaymentIntent;
  }

  /** The customer pays: a succeeded charge with card details and a Radar score. */
  succeed(piId: string, card: FakeCard = {}): Stripe.Event[] {
    const pi = this.intentObj(piId);
    if (pi.status === 'succeeded' || pi.status === 'canceled') throw badState(`This PaymentIntent's status is ${String(pi.status)}.`);
    const riskScore = card.riskScore ?? 12;
    const ch: Obj = {
      id: id('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: pi.amount,
      amount_refunded: 0,
      captured: true,
      currency: pi.currency,
      paid: true,
      refunded: false,
      disputed: false,
      status: 'succeeded',
      payment_intent: pi.id,
      metadata: copy(pi.metadata),
      outcome: {
        network_status: 'approved_by_network',
        reason: null,
        risk_level: riskScore >= 75 ? 'highest' : riskScore >= 65 ? 'elevated' : 'normal',
        risk_score: riskScore,
        seller_message: 'Payment complete.',
        type: 'authorized',
      },
      payment_method_details: {
        type: 'card',
        card: {
          brand: 'visa',
          country: card.country ?? 'US',
          fingerprint: card.fingerprint ?? randomBytes(8).toString('hex'),
          funding: 'credit',
          last4: '4242',
          exp_month: 12,
          exp_year: new Date().getUTCFullYear() + 3,
        },
      },
      created: unix(),
      livemode: false,
    };
    this.objs.put(ch);
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, latest_charge: ch.id, last_payment_error: null });
    this.objs.put(pi);
    return [this.emit('charge.succeeded', ch), this.emit('payment_intent.succeeded', pi)];
  }

  /** The customer's payment attempt is declined. */
  fail(piId: string, decline: { code?: string; message?: string } = {}): Stripe.Event {
    const pi = this.intentObj(piId);
    if (pi.status === 'succeeded' || pi.status === 'canceled') throw badState(`This PaymentIntent's status is ${String(pi.status)}.`);
    Object.assign(pi, {
      status: 'requires_payment_method',
      last_payment_error: {
        type: 'card_error',
        code: decline.code ?? 'card_declined',
        decline_code: 'generic_decline',
        message: decline.message ?? 'Your card was declined.',
      },
    });
    this.objs.put(pi);
    return this.emit('payment_intent.payment_failed', pi);
  }

  /** The cardholder disputes the charge with their bank. */
  dispute(piId: string, reason = 'fraudulent'): Stripe.Event {
    const ch = this.paidCharge(piId);
    if (ch.disputed) throw badState('This charge is already disputed.', 'charge_disputed');
    const dp: Obj = {
      id: id('dp'),
      object: 'dispute',
      amount: (ch.amount as number) - (ch.amount_refunded as number),
      currency: ch.currency,
      charge: ch.id,
      payment_intent: piId,
      reason,
      status: 'needs_response',
      is_charge_refundable: false,
      metadata: {},
      created: unix(),
      livemode: false,
    };
    this.objs.put(dp);
    ch.disputed = true;
    this.objs.put(ch);
    return this.emit('charge.dispute.created', dp);
  }

  /** The bank decides the dispute. */
  closeDispute(piId: string, status: 'won' | 'lost'): Stripe.Event {
    const dp = this.objs.ofKind('dispute').find((d) => d.payment_intent === piId);
    if (!dp) throw noSuch('dispute for payment_intent', piId);
    if (dp.status === 'won' || dp.status === 'lost')
      throw badState(`This dispute is already ${String(dp.status)}.`, 'dispute_already_closed');
    dp.status = status;
    this.objs.put(dp);
    return this.emit('charge.dispute.closed', dp);
  }

  createRefund(params: JsonObject): { refund: Stripe.Refund; events: Stripe.Event[] } {
    const piId = typeof params.payment_intent === 'string' ? params.payment_intent : undefined;
    const chargeId = typeof params.charge === 'string' ? params.charge : undefined;
    if (!piId && !chargeId) throw missing('payment_intent');
    const ch = piId ? this.paidCharge(piId) : this.chargeObj(chargeId!);
    if (!ch) throw noSuch('charge', chargeId!, 'charge');
    if (ch.disputed) throw badState(`Charge ${String(ch.id)} has been disputed.`, 'charge_disputed');
    const remaining = (ch.amount as number) - (ch.amount_refunded as number);
    if (remaining === 0) throw badState(`Charge ${String(ch.id)} has already been refunded.`, 'charge_already_refunded');
    const amount = positiveInt(params, 'amount', false) ?? remaining;
    if (amount > remaining)
      throw badState(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large');
    const re: Obj = {
      id: id('re'),
      object: 'refund',
      amount,
      charge: ch.id,
      payment_intent: ch.payment_intent,
      currency: ch.currency,
      reason: typeof params.reason === 'string' ? params.reason : null,
      metadata: stringMap(params.metadata),
      status: 'succeeded',
      created: unix(),
    };
    this.objs.put(re);
    ch.amount_refunded = (ch.amount_refunded as number) + amount;
    ch.refunded = ch.amount_refunded === ch.amount;
    this.objs.put(ch);
    return { refund: copy(re) as unknown as Stripe.Refund, events: [this.emit('refund.created', re), this.emit('charge.refunded', ch)] };
  }

  private intentObj(piId: string): Obj {
    const pi = this.objs.get(piId);
    if (pi?.object !== 'payment_intent') throw noSuch('payment_intent', piId);
    return pi;
  }

  private chargeObj(chargeId: string): Obj | undefined {
    const ch = this.objs.get(chargeId);
    return ch?.object === 'charge' ? ch : undefined;
  }

  private paidCharge(piId: string): Obj {
    const pi = this.intentObj(piId);
    const ch = typeof pi.latest_charge === 'string' ? this.chargeObj(pi.latest_charge) : undefined;
    if (!ch || pi.status !== 'succeeded') throw badState(`PaymentIntent ${piId} has no successful charge.`);
    return ch;
  }
}
