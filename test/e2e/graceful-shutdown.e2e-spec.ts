import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, ServerProcess } from '../support/child-processes';
import { Actor, disableFraudRule, fund, GIFT_TO_NEW_LINKED_ACCOUNT_RULE, makeAdmin, signUp, verifyEmail } from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

type Outcome = { at: 'before' | 'during'; status?: number; id?: string; error?: string };

/**
 * SIGTERM with requests in flight, against a real server process on DATABASE_URL: it stops
 * accepting, answers what it accepted, and exits 0. Nothing acknowledged is lost: every 2xx is in
 * the ledger; every other request was refused or had its connection closed before it was accepted.
 */
describe('graceful shutdown (SIGTERM)', () => {
  let t: TestApp;
  let dataDir: string;
  let server: ServerProcess | undefined;
  let recipient: Actor;
  const senders: Actor[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await makeAdmin(t, await signUp(t, 'admin'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    recipient = await signUp(t, 'recipient');
    for (let i = 0; i < 8; i++) {
      const s = await signUp(t, `sender-${i}`);
      await verifyEmail(t, s);
      await fund(t, s.id, 'CREDIT', 10_000);
      senders.push(s);
    }
    dataDir = mkdtempSync(join(tmpdir(), 'bazaar-shutdown-'));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await t?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('answers the requests in flight, refuses the rest, loses no acknowledged transfer, and exits 0', async () => {
    server = await startServerProcess({
      DATABASE_URL: t.db.url,
      DATA_DIR: dataDir,
      PORT: '0',
      JOBS_ENABLED: 'true',
      JWT_SECRET: t.config.jwtSecret,
      ENCRYPTION_KEY: t.config.encryptionKey.toString('base64'),
      SHUTDOWN_GRACE_SECONDS: '30',
    });
    const base = server.base;
    const exited = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));

    const outcomes: Outcome[] = [];
    let signalled = false;
    const transfer = async (s: Actor): Promise<void> => {
      const at = signalled ? 'during' : 'before';
      try {
        const res = await fetch(`${base}/credit-transfers`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
          body: JSON.stringify({ toUserId: recipient.id, amount: 100 }),
        });
        const body = (await res.json()) as { id?: string };
        outcomes.push({ at, status: res.status, id: body.id });
      } catch (err) {
        outcomes.push({ at, error: String((err as { cause?: { code?: string } }).cause?.code ?? err) });
      }
    };
    // Hold every transfer inside the server: a lock on the idempotency keys keeps each waiting in
    // PostgreSQL at its key's first look (on a connection of its own: session checks and transfers
    // share statements), so each is accepted and in flight (not queued on a socket) when the signal
    // arrives.
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE');
    const inFlight = senders.map((s) => transfer(s));
    await untilAsync(async () => {
      const [{ n }] = await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return n >= senders.length;
    });
    signalled = true;
    server.child.kill('SIGTERM');
    await untilAsync(() => Promise.resolve(server!.output().includes('SIGTERM: stopping')));
    const late = senders.map((s) => transfer(s));
    await Promise.all(late);
    await holder.query('COMMIT');
    await holder.release();
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
    await Promise.all(inFlight);

    expect(code).toBe(0);
    // Every request in flight at the signal was answered (drained, not cut) and acknowledged.
    expect(outcomes.filter((o) => o.at === 'before')).toEqual(senders.map(() => expect.objectContaining({ status: 201 })));
    // Requests sent after the signal found no listener (or a connection closed before they were accepted).
    expect(outcomes.filter((o) => o.at === 'during' && o.error === undefined)).toEqual([]);
    const acknowledged = outcomes.filter((o) => o.status !== undefined && o.status < 300);

    const ids = acknowledged.map((o) => o.id!);
    const stored = await t.sql<{ id: string }>(`SELECT id FROM credit_transfers WHERE id = ANY($1::uuid[]) AND status = 'completed'`, [
      ids,
    ]);
    expect(stored).toHaveLength(ids.length);
    const posted = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'gift'`);
    expect(posted[0].n).toBe(ids.length);
    const all = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM credit_transfers`);
    expect(all[0].n).toBe(ids.length);
  }, 180_000);
});

async function untilAsync(cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
