import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { isIP } from 'node:net';
import type { ClientContext } from './identity.hooks';

/** The caller's address (behind a trusted proxy, as Express resolved it) and user agent. */
export function clientContextOf(req: Request): ClientContext {
  let ip = req.ip ?? req.socket?.remoteAddress ?? '';
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  if (isIP(ip) === 0) ip = '0.0.0.0';
  const ua = req.header('user-agent');
  return { ip, userAgent: ua ? [...ua].slice(0, 500).join('') : undefined };
}

export const Client = createParamDecorator((_: unknown, ctx: ExecutionContext): ClientContext =>
  clientContextOf(ctx.switchToHttp().getRequest<Request>()),
);
