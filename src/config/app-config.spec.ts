import { ConfigError, loadConfig } from './app-config';

const base = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(3000);
    expect(c.accessTokenTtlSeconds).toBe(900);
    expect(c.economy.signupBonusPromo).toBe(1000);
    expect(c.resellers.wholesaleDiscountPercent).toBe(15);
    expect(c.devRoutes).toBe(false); // external database: dev routes are opt-in
    expect(c.encryptionKey).toHaveLength(32);
  });

  it('reports every bad value at once, naming each variable', () => {
    let message = '';
    try {
      loadConfig({ ...base, PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', ENCRYPTION_KEY: 'c2hvcnQ=' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'ENCRYPTION_KEY']) expect(message).toContain(name);
  });

  it('refuses production without secrets or with dev routes', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: base.DATABASE_URL })).toThrow(/JWT_SECRET is required/);
    expect(() =>
      loadConfig({ ...base, NODE_ENV: 'production', DEV_ROUTES: 'true', STRIPE_SECRET_KEY: 'sk', STRIPE_WEBHOOK_SECRET: 'wh' }),
    ).toThrow(/DEV_ROUTES cannot be true/);
  });

  it('keeps the wholesale discount below 100% (a wholesale price is never free)', () => {
    expect(loadConfig({ ...base, RESELLER_WHOLESALE_DISCOUNT_PERCENT: '30' }).resellers.wholesaleDiscountPercent).toBe(30);
    expect(() => loadConfig({ ...base, RESELLER_WHOLESALE_DISCOUNT_PERCENT: '100' })).toThrow(/RESELLER_WHOLESALE_DISCOUNT_PERCENT/);
  });

  it('requires admin email and password together', () => {
    expect(() => loadConfig({ ...base, ADMIN_EMAIL: 'a@b.c' })).toThrow(/ADMIN_EMAIL and ADMIN_PASSWORD/);
  });
});
