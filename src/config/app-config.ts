import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  publicUrl: string;
  trustProxy: boolean;
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** 32 bytes, used for AES-256-GCM encryption of secrets at rest (TOTP). */
  encryptionKey: Buffer;
  adminEmail?: string;
  adminPassword?: string;
  smtpUrl?: string;
  mailFrom: string;
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  /** Base URL of the Stripe API; the sandbox and tests point it at a local Stripe-compatible server. */
  stripeApiBase?: string;
  economy: EconomyConfig;
}

export interface EconomyConfig {
  signupBonusPromo: number;
  emailVerifiedBonusPromo: number;
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
  let jwtSecret = str('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  if (jwtSecret === undefined) {
    if (secrets) jwtSecret = secrets().jwtSecret;
    else problems.push('JWT_SECRET is required when NODE_ENV=production');
  }
  let encryptionKey: Buffer | undefined;
  const keyRaw = str('ENCRYPTION_KEY');
  if (keyRaw !== undefined) {
    encryptionKey = Buffer.from(keyRaw, 'base64');
    if (encryptionKey.length !== 32) problems.push('ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  } else if (secrets) {
    encryptionKey = Buffer.from(secrets().encryptionKey, 'base64');
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

  const port = int('PORT', 3000, 0, 65535);
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
    publicUrl: url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`,
    trustProxy: bool('TRUST_PROXY', false),
    jwtSecret: jwtSecret ?? '',
    accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 60, 24 * 3600),
    refreshTokenTtlDays: int('REFRESH_TOKEN_TTL_DAYS', 30, 1, 365),
    encryptionKey: encryptionKey ?? Buffer.alloc(32),
    adminEmail,
    adminPassword,
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: str('MAIL_FROM') ?? 'Bazaar <no-reply@bazaar.local>',
    stripeSecretKey,
    stripeWebhookSecret,
    stripeApiBase: url('STRIPE_API_BASE', ['http:', 'https:']),
    economy: {
      signupBonusPromo: int('SIGNUP_BONUS_PROMO', 1000, 0, 1_000_000_000),
      emailVerifiedBonusPromo: int('EMAIL_VERIFIED_BONUS_PROMO', 500, 0, 1_000_000_000),
    },
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return config;
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
