import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { AccessGuard } from '../../src/identity/guards/access.guard';
import { enumerateRoutes, Route } from '../support/routes';
import { TestApp, useTestApp } from '../support/test-app';

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
    const guard = new AccessGuard(new Reflector(), t.app.get(Clock), t.config);
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
