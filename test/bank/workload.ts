import type { Actor } from '../support/market-fixtures';
import { Answer, newKey, Traffic } from './client';
import type { StripeSide } from './stripe';
import type { World } from './world';

/**
 * The clients: each is one buyer doing one operation after another until the workload's end (item
 * purchases, credit gifts, token purchases paid through the fake Stripe, reseller orders opened, marked
 * paid and confirmed by the reseller), every request to a random node and retried with its key. Each
 * operation and its final answer goes into the journal, which the checks compare with the database.
 */
export type Operation =
  | { kind: 'order'; buyerId: string; key: string; listingId: string; answer: Answer }
  | { kind: 'gift'; fromId: string; toId: string; amount: number; key: string; answer: Answer }
  | { kind: 'token_purchase'; userId: string; key: string; answer: Answer; paid: boolean }
  | { kind: 'reseller_order'; buyerId: string; amount: number; key: string; answer: Answer; confirm?: Answer };

export class Journal {
  readonly operations: Operation[] = [];
}

export async function runClients(world: World, traffic: Traffic, stripe: StripeSide, journal: Journal, until: number, clients: number) {
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const me = world.buyers[i % world.buyers.length];
      while (Date.now() < until) {
        const roll = Math.random();
        if (roll < 0.35) await buyItem(world, traffic, journal, me);
        else if (roll < 0.65) await gift(world, traffic, journal, me);
        else if (roll < 0.8) await buyTokens(world, traffic, stripe, journal, me);
        else await resellerOrder(world, traffic, journal, me);
      }
    }),
  );
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

async function buyItem(world: World, traffic: Traffic, journal: Journal, me: Actor) {
  const listingId = pick(world.listings).id;
  const key = newKey();
  const answer = await traffic.send({ method: 'POST', path: '/orders', body: { listingId }, token: me.token, key });
  journal.operations.push({ kind: 'order', buyerId: me.id, key, listingId, answer });
}

async function gift(world: World, traffic: Traffic, journal: Journal, me: Actor) {
  const to = pick(world.buyers.filter((b) => b.id !== me.id));
  const amount = 100 + Math.floor(Math.random() * 1400);
  const key = newKey();
  const answer = await traffic.send({ method: 'POST', path: '/credit-transfers', body: { toUserId: to.id, amount }, token: me.token, key });
  journal.operations.push({ kind: 'gift', fromId: me.id, toId: to.id, amount, key, answer });
}

async function buyTokens(world: World, traffic: Traffic, stripe: StripeSide, journal: Journal, me: Actor) {
  const key = newKey();
  const answer = await traffic.send({
    method: 'POST',
    path: '/token-purchases',
    body: { packageId: world.packageId },
    token: me.token,
    key,
  });
  const op: Operation = { kind: 'token_purchase', userId: me.id, key, answer, paid: false };
  journal.operations.push(op);
  if (answer.status !== 201) return;
  await stripe.pay(answer.body.paymentIntentId, `fp_bank_${me.id.slice(0, 8)}`);
  op.paid = true;
}

async function resellerOrder(world: World, traffic: Traffic, journal: Journal, me: Actor) {
  const r = world.reseller;
  const amount = 1_000 + 100 * Math.floor(Math.random() * 40);
  const key = newKey();
  const answer = await traffic.send({ method: 'POST', path: '/reseller-orders', body: { resellerId: r.id, amount }, token: me.token, key });
  const op: Operation = { kind: 'reseller_order', buyerId: me.id, amount, key, answer };
  journal.operations.push(op);
  if (answer.status !== 201) return;
  const path = `/reseller-orders/${answer.body.id}`;
  // mark-paid takes no key: an attempt that was applied before its answer was lost leaves the retry INVALID_STATE.
  const paid = await traffic.send({
    method: 'POST',
    path: `${path}/mark-paid`,
    body: { paymentReference: `bank ${key}` },
    token: me.token,
  });
  if (paid.status !== 200) {
    const now = await traffic.send({ method: 'GET', path, token: me.token });
    if (now.body?.status !== 'paid') return;
  }
  const confirmKey = newKey();
  op.confirm = await traffic.send({ method: 'POST', path: `${path}/confirm`, token: r.token, key: confirmKey });
  if (op.confirm.status === 401 && op.confirm.body?.code === 'REAUTH_REQUIRED') {
    await traffic.send({ method: 'POST', path: '/auth/reauth', body: { password: r.password }, token: r.token });
    op.confirm = await traffic.send({ method: 'POST', path: `${path}/confirm`, token: r.token, key: confirmKey });
  }
}
