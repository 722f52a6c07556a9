import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { isIP } from 'node:net';
import type { ClientContext } from './identity.hooks';

/**
 * The Express setting naming the request header in which a trusted edge reports the client's country
 * (FRAUD_IP_COUNTRY_HEADER, set in app.ts beside `trust proxy`); unset, no country is read.
 */
export const IP_COUNTRY_HEADER_SETTING = 'ip country header';

/** The caller's address (behind a trusted proxy, as Express resolved it), user agent and, if reported, country. */
export function clientContextOf(req: Request): ClientContext {
  let ip = req.ip ?? req.socket?.remoteAddress ?? '';
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  if (isIP(ip) === 0) ip = '0.0.0.0';
  const ua = req.header('user-agent');
  const countryHeader = req.app?.get(IP_COUNTRY_HEADER_SETTING) as string | undefined;
  const ipCountry = countryHeader ? countryCode(req.header(countryHeader)) : undefined;
  return { ip, userAgent: ua ? [...ua].slice(0, 500).join('') : undefined, ...(ipCountry ? { ipCountry } : {}) };
}

/** An ISO 3166 alpha-2 code, upper case; anything else (and Cloudflare's `XX` unknown, `T1` Tor) is no country. */
function countryCode(raw: string | undefined): string | undefined {
  const code = raw?.trim().toUpperCase();
  return code && /^[A-Z]{2}$/.test(code) && code !== 'XX' && code !== 'T1' ? code : undefined;
}

export const Client = createParamDecorator((_: unknown, ctx: ExecutionContext): ClientContext =>
  clientContextOf(ctx.switchToHttp().getRequest<Request>()),
);
