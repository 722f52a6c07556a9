import { AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import { as, fund, makeAdmin, publishListing, signUp, signUpCreator } from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

interface Line {
  level: number;
  msg: string;
  context?: string;
  [field: string]: unknown;
}

/** Every JSON line the application logs (at debug, so that boot lines show their level too). */
class Capture extends Writable {
  readonly lines: Line[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.raw.push(text);
      this.lines.push(JSON.parse(text) as Line);
    }
    done();
  }
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;
const DEBUG = 20;

describe('ops: request and business-event logs', () => {
  const capture = new Capture();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'debug' }, { logDestination: capture });
  });
  afterAll(() => t?.close());

  /** The request line of the response with this request id (it is written when the response closes). */
  async function requestLine(reqId: string): Promise<Line> {
    for (let i = 0; i < 50; i++) {
      const found = capture.lines.filter((l) => l.msg === 'request' && l.reqId === reqId);
      if (found.length) {
        expect(found).toHaveLength(1);
        return found[0];
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no request line for ${reqId}`);
  }

  it('logs one compact line per request: id, method, route template, status, ms, user id', async () => {
    const user = await signUp(t, 'logs');
    const res = await as(t, user).get('/me').expect(200);
    const line = await requestLine(res.headers['x-request-id']);
    expect(line).toEqual({
      level: INFO,
      time: expect.any(Number),
      pid: process.pid,
      reqId: res.headers['x-request-id'],
      method: 'GET',
      route: '/me',
      status: 200,
      ms: expect.any(Number),
      userId: user.id,
      msg: 'request',
    });
    const raw = capture.raw[capture.lines.indexOf(line)];
    expect(raw.length).toBeLessThan(250);
    expect(raw).not.toContain(user.token);
  });

  it('logs the route template, never the URL with its ids and query', async () => {
    const res = await t.http().get('/listings/00000000-0000-4000-8000-000000000000?token=secret-value').expect(404);
    const line = await requestLine(res.headers['x-request-id']);
    expect(line).toMatchObject({ route: '/listings/:id', status: 404, userId: null });
    expect(JSON.stringify(line)).not.toContain('secret-value');
  });

  it('keeps a well-formed client request id and replaces anything else', async () => {
    const kept = await t.http().get('/health/live').set('X-Request-Id', 'client-id-42').expect(200);
    expect(kept.headers['x-request-id']).toBe('client-id-42');
    await requestLine('client-id-42');
    const replaced = await t.http().get('/health/live').set('X-Request-Id', 'bad id{}').expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs 4xx at warn: 401, unknown route (no template)', async () => {
    const unauthenticated = await t.http().get('/me').expect(401);
    expect(await requestLine(unauthenticated.headers['x-request-id'])).toMatchObject({ level: WARN, status: 401, route: '/me' });
    const unknown = await t.http().get('/no/such/route').expect(404);
    expect(await requestLine(unknown.headers['x-request-id'])).toMatchObject({ level: WARN, status: 404, route: null });
  });

  it('answers and logs malformed JSON and a body over the limit with their request id', async () => {
    const malformed = await t.http().post('/dev/clock').set('Content-Type', 'application/json').send('{"advanceSeconds": ').expect(400);
    const id = malformed.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(malformed.body).toMatchObject({ code: 'MALFORMED_REQUEST', requestId: id });
    expect(await requestLine(id)).toMatchObject({ level: WARN, method: 'POST', status: 400 });

    const tooLarge = await t
      .http()
      .post('/dev/clock')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(t.config.bodyLimitBytes) }))
      .expect(413);
    expect(tooLarge.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', requestId: tooLarge.headers['x-request-id'] });
    expect(await requestLine(tooLarge.headers['x-request-id'])).toMatchObject({ level: WARN, status: 413 });
  });

  it('logs a 5xx at error, with the request id on the error detail too', async () => {
    await t.sql('ALTER TABLE dev_mailbox RENAME TO dev_mailbox_away');
    try {
      const res = await t.http().get('/dev/mailbox/nobody@example.com').expect(500);
      const id = res.headers['x-request-id'];
      expect(res.body.requestId).toBe(id);
      expect(await requestLine(id)).toMatchObject({ level: ERROR, status: 500, route: '/dev/mailbox/:email' });
      expect(capture.lines.find((l) => l.msg === 'request failed' && l.reqId === id)).toMatchObject({ level: ERROR });
    } finally {
      await t.sql('ALTER TABLE dev_mailbox_away RENAME TO dev_mailbox');
    }
  });

  it('logs a business event once, at info, after it commits (a listing decision); a refused one (409, at warn) logs none', async () => {
    const admin = await makeAdmin(t, await signUp(t, 'admin'));
    const creator = await signUpCreator(t);
    const listing = await publishListing(t, creator, admin, { profit: 10 });
    const events = capture.lines.filter((l) => l.event === 'listing.approve' && l.listingId === listing.id);
    expect(events).toEqual([
      expect.objectContaining({
        level: INFO,
        context: 'Events',
        adminId: admin.id,
        creatorId: creator.id,
        from: 'pending_review',
        to: 'published',
      }),
    ]);
    // Refused (already published): nothing committed, nothing logged.
    const refused = await as(t, admin).post(`/admin/listings/${listing.id}/approve`).expect(409);
    expect(await requestLine(refused.headers['x-request-id'])).toMatchObject({ level: WARN, status: 409, userId: admin.id });
    expect(capture.lines.filter((l) => l.event === 'listing.approve' && l.listingId === listing.id)).toHaveLength(1);
  });

  it('gives the lines logged while serving a request its reqId, a body that arrives after the headers included', async () => {
    const admin = await makeAdmin(t, await signUp(t, 'admin'));
    const creator = await signUpCreator(t);
    const created = await as(t, creator)
      .post('/listings', { title: 'Item', description: 'An item', category: 'hats', profit: 10 })
      .expect(201);
    await fund(t, creator.id, 'CREDIT', t.config.economy.submissionFeeCredits);
    await as(t, creator).post(`/listings/${created.body.id}/submit`).expect(200);
    await t.app.listen(0, '127.0.0.1');
    const body = JSON.stringify({ reason: 'a test' });
    // The body in a later packet than the headers: it is read in the socket's async context.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect((t.app.getHttpServer().address() as AddressInfo).port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.on('connect', () => {
        socket.write(
          `POST /admin/listings/${created.body.id}/reject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
            `Authorization: Bearer ${admin.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        setTimeout(() => socket.write(body), 100);
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const reqId = /x-request-id: (\S+)/i.exec(answer)![1];
    const event = capture.lines.find((l) => l.event === 'listing.reject' && l.listingId === created.body.id);
    expect(event).toMatchObject({ context: 'Events', reqId });
    expect(await requestLine(reqId)).toMatchObject({ status: 200, route: '/admin/listings/:id/reject', userId: admin.id });
  });

  it('logs Nest start-up lines (modules, routes) at debug, never at info', () => {
    const boot = capture.lines.filter(
      (l) => l.context === 'RouterExplorer' || l.context === 'InstanceLoader' || l.context === 'RoutesResolver',
    );
    expect(boot.length).toBeGreaterThan(50);
    expect(boot.every((l) => l.level === DEBUG)).toBe(true);
  });
});
