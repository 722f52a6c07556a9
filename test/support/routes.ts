import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { IS_PUBLIC, REQUIRED_ROLES, SENSITIVE } from '../../src/common/auth.decorators';
import { IdempotencyInterceptor } from '../../src/common/idempotency/idempotency.interceptor';
import type { TestApp } from './test-app';

export interface Route {
  method: string;
  /** Express style: `/admin/users/:id/hold`. */
  path: string;
  controller: string;
  handler: string;
  isPublic: boolean;
  roles: string[] | undefined;
  /** `@Idempotent()`: requires an Idempotency-Key. */
  idempotent: boolean;
  /** `@Sensitive()`: requires a recent re-authentication. */
  sensitive: boolean;
}

const join = (...parts: (string | string[] | undefined)[]) =>
  `/${parts
    .map((p) => (Array.isArray(p) ? p[0] : p) ?? '')
    .join('/')
    .split('/')
    .filter(Boolean)
    .join('/')}`;

/** Every route handler of every controller in the booted application, with its access markers. */
export function enumerateRoutes(t: TestApp): Route[] {
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
      const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[];
      routes.push({
        method,
        path: join(Reflect.getMetadata(PATH_METADATA, cls) as string, path),
        controller: cls.name,
        handler: name,
        isPublic: Reflect.getMetadata(IS_PUBLIC, handler) === true || Reflect.getMetadata(IS_PUBLIC, cls) === true,
        roles: (Reflect.getMetadata(REQUIRED_ROLES, handler) ?? Reflect.getMetadata(REQUIRED_ROLES, cls)) as string[] | undefined,
        idempotent: interceptors.includes(IdempotencyInterceptor),
        sensitive: Reflect.getMetadata(SENSITIVE, handler) === true || Reflect.getMetadata(SENSITIVE, cls) === true,
      });
    }
  }
  return routes;
}
