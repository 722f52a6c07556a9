/**
 * SQL expressions (PostgreSQL inet functions) over an address parameter such as `$3`, for the
 * repositories of this module.
 *
 * `networkOf`: the network a login comes from for the risk signal "new network", /24 for IPv4 and /48
 * for IPv6 (ISSUE 4).
 *
 * `throttleScopeOf`: what the per-IP limit on failed logins counts: the address for IPv4, but the /64
 * for IPv6, the smallest block a single subscriber is given, so rotating through one's own /64 (2^64
 * addresses) does not reset the count.
 */
export const networkOf = (param: string): string =>
  `network(set_masklen(${param}::inet, CASE family(${param}::inet) WHEN 4 THEN 24 ELSE 48 END))`;

export const throttleScopeOf = (param: string): string =>
  `network(set_masklen(${param}::inet, CASE family(${param}::inet) WHEN 4 THEN 32 ELSE 64 END))`;
