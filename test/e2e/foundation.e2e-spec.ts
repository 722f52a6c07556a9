import { TestApp, useTestApp } from '../support/test-app';

describe('foundation: health, errors, docs, dev routes', () => {
  let t: TestApp;
  useTestApp((app) => (t = app));

  it('reports healthy with the database up', async () => {
    const res = await t.http().get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.database.status).toBe('up');
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await t.http().get('/no/such/route').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND', title: expect.any(String), type: expect.any(String) });
  });

  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const res = await t.http().post('/dev/clock').set('Content-Type', 'application/json').send('{"advanceSeconds": ').expect(400);
    expect(res.body.code).toBe('MALFORMED_REQUEST');
  });

  it('answers a body over the limit with 413', async () => {
    const res = await t
      .http()
      .post('/dev/clock')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ advanceSeconds: 1, pad: 'x'.repeat(200 * 1024) }))
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects unknown fields and wrong types with VALIDATION_FAILED listing the fields', async () => {
    const unknown = await t.http().post('/dev/clock').send({ advanceSeconds: 1, extra: true }).expect(400);
    expect(unknown.body.code).toBe('VALIDATION_FAILED');
    expect(unknown.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'extra' })]));
    const wrongType = await t.http().post('/dev/clock').send({ advanceSeconds: '10' }).expect(400);
    expect(wrongType.body.errors[0].field).toBe('advanceSeconds');
  });

  it('serves the OpenAPI document and Prometheus metrics', async () => {
    const docs = await t.http().get('/docs-json').expect(200);
    expect(docs.body.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.body.paths)).toContain('/health');
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toContain('http_request_duration_seconds');
  });

  it('moves the shared business clock forward', async () => {
    const before = Date.parse((await t.http().get('/dev/clock').expect(200)).body.now);
    const after = Date.parse(
      (
        await t
          .http()
          .post('/dev/clock')
          .send({ advanceSeconds: 7 * 86400 })
          .expect(200)
      ).body.now,
    );
    expect(after - before).toBeGreaterThanOrEqual(7 * 86400 * 1000);
    const [{ offset_ms }] = await t.sql<{ offset_ms: string }>('SELECT offset_ms FROM business_clock');
    expect(Number(offset_ms)).toBe(7 * 86400 * 1000);
  });

  it("sets helmet's security headers (no CSP) and a request id, on an answer and on a refusal alike", async () => {
    for (const res of [await t.http().get('/health'), await t.http().get('/no/such/route').expect(404)]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(res.headers['content-security-policy']).toBeUndefined();
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });
});
