import type Stripe from 'stripe';
import { paymentIntentOf, SandboxObjects, StripeObject } from './fake-stripe.scenarios';

/** An `Idempotency-Key`'s request: its fingerprint and, once answered, the answer (none yet: in flight). */
export interface StoredRequest {
  fingerprint: string;
  answer?: { status: number; body: unknown };
}

/**
 * Where the fake Stripe keeps its objects and `Idempotency-Key` answers: in this process's memory
 * (MemorySandboxStore, the tests' separate fake) or in PostgreSQL (SandboxStripeRepository, the
 * server's sandbox, shared by every process on the database).
 */
export interface SandboxStore {
  /**
   * Runs `work` on the objects of PaymentIntent `paymentIntent` (undefined: a new one) and saves
   * what it put; nothing when it throws. Runs on one PaymentIntent never overlap.
   */
  change<T>(paymentIntent: string | undefined, work: (objs: SandboxObjects) => T): Promise<T>;
  /** A copy of any object by id. */
  find(id: string): Promise<StripeObject | undefined>;
  /** Claims `key` for a request with `fingerprint`: undefined when claimed, else what the key holds. */
  claimKey(key: string, fingerprint: string): Promise<StoredRequest | undefined>;
  /** The answer of the request that claimed `key`. */
  answerKey(key: string, answer: { status: number; body: unknown }): Promise<void>;
  /** Lets go of a claimed key without an answer (a failure that a retry may not replay). */
  releaseKey(key: string): Promise<void>;
}

/** The store of a fake Stripe run on its own (tests, benchmarks): everything in this process's memory. */
export class MemorySandboxStore implements SandboxStore {
  readonly events: Stripe.Event[] = [];
  private readonly objects = new Map<string, StripeObject>();
  private readonly keys = new Map<string, StoredRequest>();

  /** `change`, at once: the objects are this store's own. */
  changeNow<T>(paymentIntent: string | undefined, work: (objs: SandboxObjects) => T): T {
    return work({
      get: (id) => this.objects.get(id),
      ofKind: (kind) => [...this.objects.values()].filter((o) => o.object === kind && paymentIntentOf(o) === paymentIntent),
      put: (obj) => void this.objects.set(obj.id, obj),
      record: (event) => void this.events.push(event),
    });
  }

  findNow(id: string): StripeObject | undefined {
    const obj = this.objects.get(id);
    return obj && structuredClone(obj);
  }

  change<T>(paymentIntent: string | undefined, work: (objs: SandboxObjects) => T): Promise<T> {
    return new Promise((resolve) => resolve(this.changeNow(paymentIntent, work)));
  }

  find(id: string): Promise<StripeObject | undefined> {
    return Promise.resolve(this.findNow(id));
  }

  claimKey(key: string, fingerprint: string): Promise<StoredRequest | undefined> {
    const stored = this.keys.get(key);
    if (!stored) this.keys.set(key, { fingerprint });
    return Promise.resolve(stored);
  }

  answerKey(key: string, answer: { status: number; body: unknown }): Promise<void> {
    const stored = this.keys.get(key);
    if (stored) stored.answer = answer;
    return Promise.resolve();
  }

  releaseKey(key: string): Promise<void> {
    this.keys.delete(key);
    return Promise.resolve();
  }
}
