import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';
import { as, signUp } from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/** A raw HTTP exchange on its own socket: what was written back until the server closed it. */
function raw(port: number, write: (socket: Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(text) : reject(err)));
    socket.on('connect', () => write(socket));
  });
}

/** Status and problem document of a raw answer. */
function parsed(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, ...rest] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown> };
}

const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('hostile requests are refused cheaply, with problem documents', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp({ REQUEST_TIMEOUT_SECONDS: '2' });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t?.close());

  const json = (path: string, body: string) => t.http().post(path).set('Content-Type', 'application/json').send(body);

  it("answers the router's own refusals (a badly encoded URL, an over-long path segment) with problem documents", async () => {
    const badUrl = await t.http().get('/listings/%ZZ');
    expect(badUrl.status).toBe(400);
    expect(badUrl.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(badUrl.body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
    expect(badUrl.headers['x-request-id']).toBeTruthy();
    const longSegment = await t.http().get(`/listings/${'x'.repeat(600)}`);
    expect(longSegment.status).toBe(414);
    expect(longSegment.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(longSegment.body).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
  });

  describe('bodies: the top level is an object, nesting and arrays are capped (finding 1)', () => {
    it('refuses a 96 KB array for login, and any body that is not an object, with 400', async () => {
      const array = `[${new Array(49_000).fill('0').join(',')}]`;
      expect(array.length).toBeGreaterThan(96_000);
      for (const body of [array, '"a string"', '42', 'null', 'true']) {
        const res = await json('/auth/login', body).expect(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'The request body must be a JSON object' });
      }
    });

    it('refuses bodies nested 49,000 arrays or 16,000 objects deep (400, not a stack overflow), on login and before the idempotency key is hashed', async () => {
      const sender = await signUp(t, 'deep');
      for (const body of [`{"email":${nestedArrays(49_000)}}`, nestedObjects(16_000)]) {
        const login = await json('/auth/login', body).expect(400);
        expect(login.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'The request body nests deeper than 32 levels' });
        const transfer = await json('/credit-transfers', body)
          .set('Authorization', `Bearer ${sender.token}`)
          .set('Idempotency-Key', randomUUID())
          .expect(400);
        expect(transfer.body.code).toBe('VALIDATION_FAILED');
      }
      // At the limit, the body is read and validated like any other.
      const atLimit = await json('/auth/login', nestedObjects(31)).expect(400);
      expect(atLimit.body.detail).not.toContain('nests deeper');
    });

    it('refuses an array longer than BODY_MAX_ARRAY_LENGTH anywhere in the body', async () => {
      const long = await json('/auth/login', `{"email":[${new Array(1001).fill('0').join(',')}]}`).expect(400);
      expect(long.body.detail).toBe('An array in the request body has more than 1000 elements');
      const short = await json('/auth/login', `{"email":[${new Array(1000).fill('0').join(',')}]}`).expect(400);
      expect(short.body.detail).not.toContain('more than');
    });
  });

  describe('unknown keys and unexpected bodies (finding 5)', () => {
    it('refuses keys named like built-in object members as unknown fields', async () => {
      for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'prototype']) {
        const body = `{"email":"a@example.com","password":"whatever-password","${key}":{"polluted":true}}`;
        const res = await json('/auth/login', body).expect(400);
        expect(res.body).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ field: key, message: `property ${key} should not exist` }],
        });
        const register = await json('/auth/register', `{"email":"a@example.com","password":"p","displayName":"x","${key}":1}`).expect(400);
        expect(register.body.errors).toEqual([{ field: key, message: `property ${key} should not exist` }]);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses a non-empty body on a POST route that takes none, and accepts an empty one', async () => {
      const user = await signUp(t, 'bodiless');
      const refused = await t
        .http()
        .post('/auth/logout')
        .set('Authorization', `Bearer ${user.token}`)
        .send({ everything: true })
        .expect(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'This route takes no request body' });
      // After the access check (the global guard applied first), before the handler.
      expect((await t.http().post('/auth/logout').send({ everything: true }).expect(401)).body.code).toBe('UNAUTHENTICATED');
      const creator = await as(t, user).post('/creators/me', { extra: 1 }).expect(400);
      expect(creator.body.code).toBe('VALIDATION_FAILED');
      await as(t, user).post('/creators/me', {}).expect(201);
      await t.http().post('/auth/logout').set('Authorization', `Bearer ${user.token}`).expect(204);
    });
  });

  describe('content types and Node-level refusals (finding 6)', () => {
    it('answers 415 UNSUPPORTED_MEDIA_TYPE to text, form and XML bodies, and to a non-UTF-8 JSON body', async () => {
      for (const [type, body] of [
        ['text/plain', '{"email":"a@b.c","password":"x"}'],
        ['application/x-www-form-urlencoded', 'email=a%40b.c&password=x'],
        ['application/xml', '<login><email>a@b.c</email></login>'],
        ['application/json; charset=latin1', '{"email":"a@b.c","password":"x"}'],
      ]) {
        const res = await t.http().post('/auth/login').set('Content-Type', type).send(body).expect(415);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', requestId: res.headers['x-request-id'] });
      }
    });

    it('answers 415 to a body without a Content-Type', async () => {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/auth/login', headers: { 'content-length': 2 } },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
      expect(answer.status).toBe(415);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it("gives Node's own 431 and 400 answers problem documents", async () => {
      const big = parsed(await raw(port, (s) => s.end(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)));
      expect(big.status).toBe(431);
      expect(big.headers).toContain('content-type: application/problem+json');
      expect(big.body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
      const garbage = parsed(await raw(port, (s) => s.end('NOT HTTP AT ALL\r\n\r\n')));
      expect(garbage.status).toBe(400);
      expect(garbage.body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
    });
  });

  describe('declared sizes and slow bodies (finding 7)', () => {
    it('refuses a Content-Length over the limit at once with 413, before any of the body arrives, and closes', async () => {
      const answer = parsed(
        await raw(port, (s) =>
          s.write(`POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20971520\r\n\r\n`),
        ),
      );
      expect(answer.status).toBe(413);
      expect(answer.headers).toContain('connection: close');
      expect(answer.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });

    it('times out a body dribbled in slower than REQUEST_TIMEOUT_SECONDS with 408', async () => {
      let timer: NodeJS.Timeout | undefined;
      const answer = await raw(port, (s) => {
        s.write(`POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
        timer = setInterval(() => s.writable && s.write(' '), 500);
      });
      clearInterval(timer);
      const res = parsed(answer);
      expect(res.status).toBe(408);
      expect(res.body).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    });
  });
});
