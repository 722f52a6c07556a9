import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { ClientContext } from './identity.hooks';

/**
 * The Fastify decoration naming the request header in which a trusted edge reports the client's
 * country (FRAUD_IP_COUNTRY_HEADER, set in app.ts beside `trustProxy`); unset, no country is read.
 */
export const IP_COUNTRY_HEADER_SETTING = 'ipCountryHeader';

const header = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** The caller's address (behind a trusted proxy, as Fastify resolved it), user agent and, if reported, country. */
export function clientContextOf(req: FastifyRequest): ClientContext {
  let ip = req.ip ?? req.socket?.remoteAddress ?? '';
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  if (isIP(ip) === 0) ip = '0.0.0.0';
  const ua = header(req, 'user-agent');
  const countryHeader = (req.server as unknown as Record<string, string | undefined>)[IP_COUNTRY_HEADER_SETTING];
  const ipCountry = countryHeader ? countryCode(header(req, countryHeader)) : undefined;
  return { ip, userAgent: ua ? [...ua].slice(0, 500).join('') : undefined, ...(ipCountry ? { ipCountry } : {}) };
}

/** An ISO 3166 alpha-2 code, upper case; anything else (and Cloudflare's `XX` unknown, `T1` Tor) is no country. */
function countryCode(raw: string | undefined): string | undefined {
  const code = raw?.trim().toUpperCase();
  return code && /^[A-Z]{2}$/.test(code) && code !== 'XX' && code !== 'T1' ? code : undefined;
}

export const Client = createParamDecorator((_: unknown, ctx: ExecutionContext): ClientContext =>
  clientContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
