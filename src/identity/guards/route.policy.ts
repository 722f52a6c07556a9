import { Reflector } from '@nestjs/core';
import { IS_PUBLIC, REQUIRED_ROLES, Role, SENSITIVE } from '../../common/auth.decorators';

export type RoutePolicy =
  | { kind: 'public' }
  | { kind: 'roles'; roles: Role[]; sensitive: boolean }
  /** Neither @Public nor @Roles: the route is refused (fail closed). */
  | { kind: 'unmarked' };

/**
 * The access policy of a handler. A marker on the method wins over one on its controller class,
 * and `@Roles` anywhere wins over `@Public` at the same level.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function routePolicy(reflector: Reflector, handler: Function, controller: Function): RoutePolicy {
  for (const target of [handler, controller]) {
    const roles = reflector.get<Role[] | undefined>(REQUIRED_ROLES, target);
    const sensitive = reflector.getAllAndOverride<boolean | undefined>(SENSITIVE, [handler, controller]) === true;
    if (roles && roles.length > 0) return { kind: 'roles', roles, sensitive };
    if (reflector.get<boolean | undefined>(IS_PUBLIC, target) === true) return { kind: 'public' };
  }
  return { kind: 'unmarked' };
}
