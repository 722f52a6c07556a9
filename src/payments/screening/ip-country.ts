import type { Request } from 'express';

const COUNTRY = /^[A-Z]{2}$/;

/**
 * The client's country as the trusted edge in front of the server reports it in `header`
 * (FRAUD_IP_COUNTRY_HEADER, e.g. cf-ipcountry): an ISO 3166 alpha-2 code, upper-cased; anything else
 * (no header configured or sent, Cloudflare's XX and T1) is unknown.
 */
export function ipCountryOf(req: Request, header: string | undefined): string | null {
  const value = header ? req.header(header)?.trim().toUpperCase() : undefined;
  return value && COUNTRY.test(value) ? value : null;
}
