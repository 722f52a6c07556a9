import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { AccessGuard } from '../../src/identity/guards/access.guard';
import { SessionsService } from '../../src/identity/sessions.service';
import { bearer, signUp } from '../support/auth';
import { enumerateRoutes, Route } from '../support/routes';
import { TestApp, useTestApp } from '../support/test-app';
import { onServer } from '../support/test-db';

describe('every route is guarded', () => {
  let t: TestApp;
  let routes: Route[];
  useTestApp((app) => (t = app));
  beforeAll(async () => {
    routes = enumerateRoutes(t);
  });

  it('finds the routes of the booted app', () => {
    const listed = routes.map((r) => `${r.method} ${r.path}`);
    expect(listed).toEqual(expect.arrayContaining(['POST /auth/login', 'GET /me', 'POST /admin/users/:id/roles', 'GET /health']));
  });

  it('has @Public() or @Roles(...) on every handler', () => {
    const unmarked = routes.filter((r) => !r.isPublic && !(r.roles && r.roles.length > 0));
    expect(unmarked.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`)).toEqual([]);
  });

  it('answers every non-public route without a token with 401 UNAUTHENTICATED problem+json', async () => {
    const protectedRoutes = routes.filter((r) => r.roles && r.roles.length > 0);
    expect(protectedRoutes.length).toBeGreaterThan(5);
    for (const r of protectedRoutes) {
      const path = r.path.replace(/:\w+/g, '00000000-0000-4000-8000-000000000000');
      const res = await t.http()[r.method.toLowerCase() as 'get'](path).send({});
      expect({ route: `${r.method} ${r.path}`, status: res.status, code: res.body.code }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('refuses at run time a handler that has neither marker (fail closed)', async () => {
    class Unmarked {
      handler(): void {}
    }
    const guard = new AccessGuard(new Reflector(), t.app.get(Clock), t.config, t.app.get(JwtService), t.app.get(SessionsService));
    const ctx = {
      getHandler: () => Unmarked.prototype.handler,
      getClass: () => Unmarked,
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => ({ headers: {} }), getResponse: () => ({}) }),
    } as unknown as ExecutionContext;
    await expect(guard.canActivate(ctx)).rejects.toEqual(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(guard.canActivate(ctx)).rejects.toBeInstanceOf(AppError);
  });
});

describe('a valid token while the database is unreachable', () => {
  let t: TestApp;
  useTestApp((app) => (t = app));

  it('is not answered 401 (the session lookup failed, not the token): the client keeps its token and retries', async () => {
    const user = await signUp(t);
    await t
      .http()
      .get('/me')
      .set(...bearer(user.accessToken))
      .expect(200);
    await onServer(`ALTER DATABASE ${t.db.name} WITH ALLOW_CONNECTIONS false`);
    try {
      await onServer(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${t.db.name}'`);
      const res = await t
        .http()
        .get('/me')
        .set(...bearer(user.accessToken));
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await onServer(`ALTER DATABASE ${t.db.name} WITH ALLOW_CONNECTIONS true`);
    }
    await t
      .http()
      .get('/me')
      .set(...bearer(user.accessToken))
      .expect(200);
  });
});
