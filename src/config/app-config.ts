import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';

/** Validated, typed configuration. Built once at boot by `loadConfig`; injected everywhere else. */
export class AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  dataDir: string;
  /** Unset means: start the embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string;
  databasePoolSize: number;
  devRoutes: boolean;
  jobsEnabled: boolean;
  logLevel: string;
  bodyLimitBytes: number;
  /** On SIGTERM/SIGINT, requests in flight get this long to finish before their connections are closed (SHUTDOWN_GRACE_SECONDS). */
  shutdownGraceSeconds: number;
  http: HttpConfig;
  publicUrl: string;
  /** Base URL of the client app that emailed links open (`/verify-email?token=`, `/reset-password?token=`). */
  webAppUrl: string;
  /**
   * Fastify's `trustProxy` (proxy-addr, as Express's "trust proxy"): false, a hop count, or addresses/CIDRs of trusted proxies. `true` in the
   * environment means one hop (the load balancer in front), never "trust every X-Forwarded-For entry",
   * which would let a client choose the address per-IP rules see.
   */
  trustProxy: boolean | number | string;
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** 32 bytes, used for AES-256-GCM encryption of secrets at rest (TOTP). */
  encryptionKey: Buffer;
  /** Which of JWT_SECRET and ENCRYPTION_KEY were not set and so generated (outside production: see devSecrets). */
  generatedSecrets: ('JWT_SECRET' | 'ENCRYPTION_KEY')[];
  adminEmail?: string;
  adminPassword?: string;
  smtpUrl?: string;
  mailFrom: string;
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  /** Base URL of the Stripe API; the sandbox and tests point it at a local Stripe-compatible server. */
  stripeApiBase?: string;
  webhooks: WebhooksConfig;
  economy: EconomyConfig;
  /** GET /listings?q=: up to `exactMatches` matches are sorted exactly; beyond, a page scans at most `window` newest rows. */
  catalogSearch: { exactMatches: number; window: number };
  orders: OrdersConfig;
  security: SecurityConfig;
  fraud: FraudConfig;
  resellers: ResellersConfig;
  ops: OpsConfig;
}

/** Processing received Stripe events (docs/payments.md, "Settlement"). */
export interface WebhooksConfig {
  /** Events one process applies at once (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** A stored event waits this long for the receiving process before any process's queue worker takes it (WEBHOOK_FALLBACK_SECONDS). */
  fallbackSeconds: number;
  /**
   * An event's job claimed by a process that has not finished it this long after starting (the
   * process died) goes to another process's worker (WEBHOOK_CLAIM_EXPIRY_SECONDS).
   */
  claimExpirySeconds: number;
}

/** Health and metrics (docs/architecture.md, "Operations"). */
export interface OpsConfig {
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string;
  /** /health/ready fails when the oldest undelivered outbox message is older than this (HEALTH_OUTBOX_MAX_LAG_SECONDS). */
  outboxMaxLagSeconds: number;
}

/** The reseller program (docs/resellers.md); amounts in credits. */
export interface ResellersConfig {
  /** At most this many resellers are active at once (RESELLER_CAP). */
  cap: number;
  /** Eligibility: account age, 2FA age, window without a fraud block. */
  minAccountAgeDays: number;
  minTwoFactorDays: number;
  fraudBlockLookbackDays: number;
  probationDays: number;
  /** An approved reseller is vetted again this many days after approval or the last renewal. */
  revetDays: number;
  bondCredits: number;
  /** The bond is released only when the last order is at least this old. */
  bondReleaseQuietDays: number;
  /** Wholesale packages cost their retail price less this percentage, rounded up (payments: purchase-terms.ts). */
  wholesaleDiscountPercent: number;
  orderMinCredits: number;
  orderMaxCredits: number;
  dailyMaxCredits: number;
  probationOrderMaxCredits: number;
  probationDailyMaxCredits: number;
  unpaidExpiryHours: number;
  confirmDueHours: number;
  /** A buyer may dispute a confirmed order this long after the confirmation. */
  disputeWindowHours: number;
  scorecardDays: number;
  suspendLostDisputes: number;
  suspendLossRatePercent: number;
  /** A buyer may have at most this many reseller orders open and unpaid at once (RESELLER_BUYER_OPEN_ORDERS_MAX). */
  buyerOpenOrdersMax: number;
}

/** The fraud engine (docs/fraud.md). */
export interface FraudConfig {
  /** FRAUD_EVALUATION=false skips evaluation entirely (every event allowed, nothing recorded): for comparisons only. */
  evaluation: boolean;
  /** Summed score of matching rules from which an event is reviewed (FRAUD_REVIEW_SCORE) or blocked (FRAUD_BLOCK_SCORE). */
  reviewScore: number;
  blockScore: number;
  /** An open review older than this is escalated (FRAUD_REVIEW_ESCALATE_HOURS). */
  escalateAfterHours: number;
  /** How long funds held for a review stay reserved (FRAUD_REVIEW_HOLD_DAYS). */
  reviewHoldDays: number;
  /** How long a process reuses the rules it read before reading them again (FRAUD_RULES_CACHE_MS); edits made here apply at once. */
  rulesCacheMs: number;
  /** Request header carrying the client's country from a trusted edge, e.g. cf-ipcountry (FRAUD_IP_COUNTRY_HEADER); unset: ip.country is null. */
  ipCountryHeader?: string;
}

/** How much of a request the server reads, and for how long (src/common/http-input.ts). */
export interface HttpConfig {
  /** The whole request, body included, must arrive within this (else 408). */
  requestTimeoutSeconds: number;
  bodyMaxDepth: number;
  bodyMaxArrayLength: number;
}

/** Identity and account-takeover guard (ECONOMY.md "Account-takeover guard"). */
export interface SecurityConfig {
  reauthWindowSeconds: number;
  lockoutThreshold: number;
  lockoutBaseSeconds: number;
  lockoutMaxSeconds: number;
  lockoutHardLimit: number;
  ipFailedLoginsPerDay: number;
  stepUpCodeTtlSeconds: number;
  coolingPasswordResetHours: number;
  coolingEmailChangeHours: number;
  coolingTotpDisabledHours: number;
  coolingNewDeviceHours: number;
  unfreezeDelayHours: number;
  /** A session (refresh-token family) ends this long after sign-in, however often it is refreshed. */
  sessionMaxDays: number;
  loginRisk: LoginRiskConfig;
}

/** Login risk scoring (account-guard/login-risk.policy.ts): a login scoring `stepUpAt` or more needs a step-up. */
export interface LoginRiskConfig {
  newDevice: number;
  newNetwork: number;
  recentFailures: number;
  ipFailingOnManyAccounts: number;
  stepUpAt: number;
  /** Failed checks on the account in 24 h from which `recentFailures` counts. */
  recentFailuresFrom: number;
  /** Other accounts the IP failed on in 24 h from which `ipFailingOnManyAccounts` counts. */
  ipFailedAccountsFrom: number;
}

export interface EconomyConfig {
  signupBonusPromo: number;
  emailVerifiedBonusPromo: number;
  /** Catalog and orders (ECONOMY.md "Listings and price", "Earnings hold", "Gifting credits"). */
  platformMarkupPercent: number;
  royaltyCapPercent: number;
  maxDerivationDepth: number;
  submissionFeeCredits: number;
  submissionFeeDevTokens: number;
  promoDevTokensPerCreator: number;
  earningsHoldDays: number;
  newCreatorHoldDays: number;
  newCreatorPeriodDays: number;
  creditGiftMin: number;
  creditGiftMax: number;
  creditGiftCap30d: number;
  giftPurchasedCreditsDelayHours: number;
  /** GET /admin/economy/report: the longest range asked at once, in days (ECONOMY_REPORT_MAX_DAYS). */
  reportMaxDays: number;
  /** The harm budgets' window: the daily check compares the last this many days (HARM_BUDGET_WINDOW_DAYS). */
  harmBudgetWindowDays: number;
  /** Harm budget thresholds in basis points of their base (docs/economy.md, "Economy health"). */
  harmBudgets: { chargebackRateBp: number; resellerDisputeLossRateBp: number; reviewFalsePositiveBp: number };
}

/** Group commit of purchases (orders.service.ts): concurrent purchases share one transaction. */
export interface OrdersConfig {
  /** Most purchases in one batch transaction (ORDER_BATCH_MAX). */
  batchMax: number;
  /** Batch transactions in flight at once, at most (ORDER_BATCH_CONCURRENCY). */
  batchConcurrency: number;
  /** Purchases that must be queued before a further batch runs beside one in flight (ORDER_BATCH_PARALLEL_MIN). */
  batchParallelMin: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the environment. Every problem is collected and reported at once. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return Number(raw);
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return def;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error();
    } catch {
      problems.push(`${name} must be a URL starting with ${protocols.join(' or ')}`);
      return undefined;
    }
    return raw;
  };

  const nodeEnvRaw = str('NODE_ENV') ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnvRaw)) {
    problems.push(`NODE_ENV must be development, production or test (got "${nodeEnvRaw}")`);
  }
  const nodeEnv = nodeEnvRaw as AppConfig['nodeEnv'];
  const production = nodeEnv === 'production';
  const dataDir = resolve(str('DATA_DIR') ?? '.data');
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const devRoutes = bool('DEV_ROUTES', !databaseUrl && !production);
  if (devRoutes && production) problems.push('DEV_ROUTES cannot be true when NODE_ENV=production');

  const logLevel = str('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const secrets = production ? undefined : () => devSecrets(dataDir, databaseUrl);
  const generatedSecrets: AppConfig['generatedSecrets'] = [];
  let jwtSecret = str('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  if (jwtSecret === undefined) {
    if (secrets) {
      jwtSecret = secrets().jwtSecret;
      generatedSecrets.push('JWT_SECRET');
    } else problems.push('JWT_SECRET is required when NODE_ENV=production');
  }
  let encryptionKey: Buffer | undefined;
  const keyRaw = str('ENCRYPTION_KEY');
  if (keyRaw !== undefined) {
    encryptionKey = Buffer.from(keyRaw, 'base64');
    if (encryptionKey.length !== 32) problems.push('ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  } else if (secrets) {
    encryptionKey = Buffer.from(secrets().encryptionKey, 'base64');
    generatedSecrets.push('ENCRYPTION_KEY');
  } else {
    problems.push('ENCRYPTION_KEY is required when NODE_ENV=production');
  }

  const adminEmail = str('ADMIN_EMAIL');
  const adminPassword = str('ADMIN_PASSWORD');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  const stripeSecretKey = str('STRIPE_SECRET_KEY');
  const stripeWebhookSecret = str('STRIPE_WEBHOOK_SECRET');
  if (stripeSecretKey && !stripeWebhookSecret) problems.push('STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY');
  if (production && !stripeSecretKey) problems.push('STRIPE_SECRET_KEY is required when NODE_ENV=production');

  const security: SecurityConfig = {
    reauthWindowSeconds: int('REAUTH_WINDOW_SECONDS', 300, 30, 3600),
    lockoutThreshold: int('LOGIN_LOCKOUT_THRESHOLD', 5, 1, 1000),
    lockoutBaseSeconds: int('LOGIN_LOCKOUT_BASE_SECONDS', 60, 1, 86400),
    lockoutMaxSeconds: int('LOGIN_LOCKOUT_MAX_SECONDS', 900, 1, 7 * 86400),
    lockoutHardLimit: int('LOGIN_LOCKOUT_HARD_LIMIT', 100, 2, 100_000),
    ipFailedLoginsPerDay: int('LOGIN_IP_FAILURES_PER_DAY', 100, 1, 10_000_000),
    stepUpCodeTtlSeconds: int('STEP_UP_CODE_TTL_SECONDS', 600, 60, 3600),
    coolingPasswordResetHours: int('COOLING_PASSWORD_RESET_HOURS', 120, 0, 24 * 365),
    coolingEmailChangeHours: int('COOLING_EMAIL_CHANGE_HOURS', 120, 0, 24 * 365),
    coolingTotpDisabledHours: int('COOLING_TOTP_DISABLED_HOURS', 168, 0, 24 * 365),
    coolingNewDeviceHours: int('COOLING_NEW_DEVICE_HOURS', 72, 0, 24 * 365),
    unfreezeDelayHours: int('UNFREEZE_DELAY_HOURS', 24, 0, 24 * 365),
    sessionMaxDays: int('SESSION_MAX_DAYS', 90, 1, 3650),
    loginRisk: {
      newDevice: int('LOGIN_RISK_NEW_DEVICE', 50, 0, 1000),
      newNetwork: int('LOGIN_RISK_NEW_NETWORK', 30, 0, 1000),
      recentFailures: int('LOGIN_RISK_RECENT_FAILURES', 30, 0, 1000),
      ipFailingOnManyAccounts: int('LOGIN_RISK_IP_FAILING_ON_MANY_ACCOUNTS', 40, 0, 1000),
      stepUpAt: int('LOGIN_RISK_STEP_UP_AT', 80, 1, 4000),
      recentFailuresFrom: int('LOGIN_RISK_RECENT_FAILURES_FROM', 3, 1, 100_000),
      ipFailedAccountsFrom: int('LOGIN_RISK_IP_FAILED_ACCOUNTS_FROM', 5, 1, 100_000),
    },
  };
  const risk = security.loginRisk;
  if (risk.newDevice + risk.newNetwork + risk.recentFailures + risk.ipFailingOnManyAccounts < risk.stepUpAt) {
    problems.push('LOGIN_RISK_STEP_UP_AT is above the sum of the LOGIN_RISK_* weights: no login could ever need a step-up');
  }
  if (security.lockoutBaseSeconds > security.lockoutMaxSeconds) {
    problems.push('LOGIN_LOCKOUT_BASE_SECONDS must not exceed LOGIN_LOCKOUT_MAX_SECONDS');
  }
  if (security.lockoutThreshold >= security.lockoutHardLimit) {
    problems.push('LOGIN_LOCKOUT_THRESHOLD must be below LOGIN_LOCKOUT_HARD_LIMIT');
  }
  const refreshTokenTtlDays = int('REFRESH_TOKEN_TTL_DAYS', 30, 1, 365);
  if (security.sessionMaxDays < refreshTokenTtlDays) problems.push('SESSION_MAX_DAYS must not be below REFRESH_TOKEN_TTL_DAYS');
  const port = int('PORT', 3000, 0, 65535);
  const metricsToken = str('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
  const publicUrl = url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const config: AppConfig = {
    nodeEnv,
    port,
    dataDir,
    databaseUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 20, 2, 500),
    devRoutes,
    jobsEnabled: bool('JOBS_ENABLED', true),
    logLevel,
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 100 * 1024, 1024, 10 * 1024 * 1024),
    shutdownGraceSeconds: int('SHUTDOWN_GRACE_SECONDS', 20, 0, 3600),
    http: {
      requestTimeoutSeconds: int('REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
      bodyMaxDepth: int('BODY_MAX_DEPTH', 32, 2, 1000),
      bodyMaxArrayLength: int('BODY_MAX_ARRAY_LENGTH', 1000, 1, 1_000_000),
    },
    publicUrl,
    webAppUrl: (url('WEB_APP_URL', ['http:', 'https:']) ?? publicUrl).replace(/\/+$/, ''),
    trustProxy: trustProxy(str('TRUST_PROXY'), problems),
    jwtSecret: jwtSecret ?? '',
    generatedSecrets,
    accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 60, 24 * 3600),
    refreshTokenTtlDays,
    encryptionKey: encryptionKey ?? Buffer.alloc(32),
    adminEmail,
    adminPassword,
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: str('MAIL_FROM') ?? 'Bazaar <no-reply@bazaar.local>',
    stripeSecretKey,
    stripeWebhookSecret,
    stripeApiBase: url('STRIPE_API_BASE', ['http:', 'https:']),
    webhooks: {
      concurrency: int('WEBHOOK_CONCURRENCY', 16, 1, 256),
      fallbackSeconds: int('WEBHOOK_FALLBACK_SECONDS', 10, 0, 3600),
      claimExpirySeconds: int('WEBHOOK_CLAIM_EXPIRY_SECONDS', 60, 2, 3600),
    },
    security,
    catalogSearch: {
      exactMatches: int('SEARCH_EXACT_MATCHES', 5000, 1, 1_000_000),
      window: int('SEARCH_WINDOW', 20_000, 1, 10_000_000),
    },
    fraud: {
      evaluation: bool('FRAUD_EVALUATION', true),
      reviewScore: int('FRAUD_REVIEW_SCORE', 50, 1, 10_000),
      blockScore: int('FRAUD_BLOCK_SCORE', 80, 1, 10_000),
      escalateAfterHours: int('FRAUD_REVIEW_ESCALATE_HOURS', 72, 1, 24 * 365),
      reviewHoldDays: int('FRAUD_REVIEW_HOLD_DAYS', 365, 1, 3650),
      rulesCacheMs: int('FRAUD_RULES_CACHE_MS', 1000, 0, 3_600_000),
      ipCountryHeader: str('FRAUD_IP_COUNTRY_HEADER')?.toLowerCase(),
    },
    resellers: {
      cap: int('RESELLER_CAP', 20, 0, 100_000),
      minAccountAgeDays: int('RESELLER_MIN_ACCOUNT_AGE_DAYS', 90, 0, 3650),
      minTwoFactorDays: int('RESELLER_MIN_2FA_DAYS', 7, 0, 3650),
      fraudBlockLookbackDays: int('RESELLER_FRAUD_BLOCK_LOOKBACK_DAYS', 90, 0, 3650),
      probationDays: int('RESELLER_PROBATION_DAYS', 30, 0, 3650),
      revetDays: int('RESELLER_REVET_DAYS', 90, 1, 3650),
      bondCredits: int('RESELLER_BOND_CREDITS', 100_000, 0, 1_000_000_000_000),
      bondReleaseQuietDays: int('RESELLER_BOND_RELEASE_QUIET_DAYS', 30, 0, 3650),
      wholesaleDiscountPercent: int('RESELLER_WHOLESALE_DISCOUNT_PERCENT', 15, 0, 99),
      orderMinCredits: int('RESELLER_ORDER_MIN_CREDITS', 1_000, 1, 1_000_000_000_000),
      orderMaxCredits: int('RESELLER_ORDER_MAX_CREDITS', 200_000, 1, 1_000_000_000_000),
      dailyMaxCredits: int('RESELLER_DAILY_MAX_CREDITS', 1_000_000, 1, 1_000_000_000_000),
      probationOrderMaxCredits: int('RESELLER_PROBATION_ORDER_MAX_CREDITS', 50_000, 1, 1_000_000_000_000),
      probationDailyMaxCredits: int('RESELLER_PROBATION_DAILY_MAX_CREDITS', 200_000, 1, 1_000_000_000_000),
      unpaidExpiryHours: int('RESELLER_UNPAID_EXPIRY_HOURS', 24, 1, 24 * 365),
      confirmDueHours: int('RESELLER_CONFIRM_DUE_HOURS', 24, 1, 24 * 365),
      disputeWindowHours: int('RESELLER_DISPUTE_WINDOW_HOURS', 72, 0, 24 * 365),
      scorecardDays: int('RESELLER_SCORECARD_DAYS', 30, 1, 3650),
      suspendLostDisputes: int('RESELLER_SUSPEND_LOST_DISPUTES', 3, 1, 1_000_000),
      suspendLossRatePercent: int('RESELLER_SUSPEND_LOSS_RATE_PERCENT', 2, 0, 100),
      buyerOpenOrdersMax: int('RESELLER_BUYER_OPEN_ORDERS_MAX', 3, 1, 1000),
    },
    ops: {
      metricsToken,
      outboxMaxLagSeconds: int('HEALTH_OUTBOX_MAX_LAG_SECONDS', 300, 1, 7 * 86400),
    },
    orders: {
      batchMax: int('ORDER_BATCH_MAX', 100, 1, 10_000),
      batchConcurrency: int('ORDER_BATCH_CONCURRENCY', 3, 1, 64),
      batchParallelMin: int('ORDER_BATCH_PARALLEL_MIN', 8, 1, 100_000),
    },
    economy: {
      signupBonusPromo: int('SIGNUP_BONUS_PROMO', 1000, 0, 1_000_000_000),
      emailVerifiedBonusPromo: int('EMAIL_VERIFIED_BONUS_PROMO', 500, 0, 1_000_000_000),
      platformMarkupPercent: int('PLATFORM_MARKUP_PERCENT', 10, 0, 1000),
      royaltyCapPercent: int('ROYALTY_CAP_PERCENT', 20, 0, 100),
      maxDerivationDepth: int('MAX_DERIVATION_DEPTH', 10, 0, 25),
      submissionFeeCredits: int('SUBMISSION_FEE_CREDITS', 500, 0, 1_000_000_000),
      submissionFeeDevTokens: int('SUBMISSION_FEE_DEV_TOKENS', 50, 0, 1_000_000_000),
      promoDevTokensPerCreator: int('PROMO_DEV_TOKENS_PER_CREATOR', 1, 0, 1_000_000),
      earningsHoldDays: int('EARNINGS_HOLD_DAYS', 7, 0, 365),
      newCreatorHoldDays: int('NEW_CREATOR_HOLD_DAYS', 30, 0, 365),
      newCreatorPeriodDays: int('NEW_CREATOR_PERIOD_DAYS', 30, 0, 365),
      creditGiftMin: int('CREDIT_GIFT_MIN', 100, 1, 1_000_000_000),
      creditGiftMax: int('CREDIT_GIFT_MAX', 100_000, 1, 1_000_000_000),
      creditGiftCap30d: int('CREDIT_GIFT_CAP_30D', 500_000, 1, 1_000_000_000_000),
      giftPurchasedCreditsDelayHours: int('GIFT_PURCHASED_CREDITS_DELAY_HOURS', 24, 0, 24 * 365),
      reportMaxDays: int('ECONOMY_REPORT_MAX_DAYS', 366, 1, 3660),
      harmBudgetWindowDays: int('HARM_BUDGET_WINDOW_DAYS', 30, 1, 365),
      harmBudgets: {
        chargebackRateBp: int('HARM_BUDGET_CHARGEBACK_RATE_BP', 65, 0, 10_000),
        resellerDisputeLossRateBp: int('HARM_BUDGET_RESELLER_DISPUTE_LOSS_RATE_BP', 200, 0, 10_000),
        reviewFalsePositiveBp: int('HARM_BUDGET_REVIEW_FALSE_POSITIVE_BP', 5000, 0, 10_000),
      },
    },
  };
  if (config.economy.creditGiftMin > config.economy.creditGiftMax) problems.push('CREDIT_GIFT_MIN must not exceed CREDIT_GIFT_MAX');
  const r = config.resellers;
  if (r.orderMinCredits > r.probationOrderMaxCredits || r.probationOrderMaxCredits > r.orderMaxCredits) {
    problems.push('RESELLER_ORDER_MIN_CREDITS <= RESELLER_PROBATION_ORDER_MAX_CREDITS <= RESELLER_ORDER_MAX_CREDITS must hold');
  }
  if (r.probationDailyMaxCredits > r.dailyMaxCredits)
    problems.push('RESELLER_PROBATION_DAILY_MAX_CREDITS must not exceed RESELLER_DAILY_MAX_CREDITS');
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return config;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: true/false, a hop count, or a comma-separated list of proxy addresses, CIDRs or Express's names. */
function trustProxy(raw: string | undefined, problems: string[]): AppConfig['trustProxy'] {
  if (raw === undefined || ['false', 'no', '0'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes'].includes(raw.toLowerCase())) return 1;
  if (/^\d+$/.test(raw)) {
    if (Number(raw) <= 10) return Number(raw);
    problems.push(`TRUST_PROXY must be at most 10 hops (got "${raw}")`);
    return false;
  }
  const entries = raw.split(',').map((e) => e.trim());
  const valid = (e: string) => {
    if (PROXY_NAMES.includes(e)) return true;
    const [address, bits, ...rest] = e.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  };
  if (entries.every(valid)) return entries.join(',');
  problems.push('TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses/CIDRs');
  return false;
}

interface DevSecrets {
  jwtSecret: string;
  encryptionKey: string;
}

/**
 * Outside production, secrets nobody configured are generated once and kept in DATA_DIR so that
 * tokens and encrypted TOTP secrets survive a restart of the embedded setup.
 */
function devSecrets(dataDir: string, databaseUrl: string | undefined): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const fresh: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  // With an external database and no DATA_DIR there is nowhere durable we own; keep them in memory.
  if (databaseUrl && !existsSync(dataDir)) return fresh;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(fresh), { mode: 0o600 });
  return fresh;
}
