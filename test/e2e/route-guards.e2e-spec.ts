import { ExecutionContext, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { IS_PUBLIC, REQUIRED_ROLES } from '../../src/common/auth.decorators';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { AccessGuard } from '../../src/identity/guards/access.guard';
import { TestApp, useTestApp } from '../support/test-app';

interface Route {
  method: string;
  path: string;
  controller: string;
  handler: string;
  isPublic: boolean;
  roles: string[] | undefined;
}

const join = (...parts: (string | string[] | undefined)[]) =>
  `/${parts
    .map((p) => (Array.isArray(p) ? p[0] : p) ?? '')
    .join('/')
    .split('/')
    .filter(Boolean)
    .join('/')}`;

/** Every route handler of every controller in the booted application, with its access markers. */
function enumerateRoutes(t: TestApp): Route[] {
  const discovery = new DiscoveryService(t.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const routes: Route[] = [];
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
    if (!cls) continue;
    for (const name of scanner.getAllMethodNames(cls.prototype)) {
      const handler = (cls.prototype as Record<string, unknown>)[name] as object;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (path === undefined) continue; // not a route handler
      const method = RequestMethod[(Reflect.getMetadata(METHOD_METADATA, handler) as number) ?? RequestMethod.GET];
      routes.push({
        method,
        path: join(Reflect.getMetadata(PATH_METADATA, cls) as string, path),
        controller: cls.name,
        handler: name,
        isPublic: Reflect.getMetadata(IS_PUBLIC, handler) === true || Reflect.getMetadata(IS_PUBLIC, cls) === true,
        roles: (Reflect.getMetadata(REQUIRED_ROLES, handler) ?? Reflect.getMetadata(REQUIRED_ROLES, cls)) as string[] | undefined,
      });
    }
  }
  return routes;
}

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
