import { ConfigError, loadConfig } from '../config/app-config';

const env = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};
const problem = (over: Record<string, string>): string => {
  try {
    loadConfig({ ...env, ...over });
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('identity configuration', () => {
  describe('TRUST_PROXY', () => {
    const trust = (value?: string) => loadConfig({ ...env, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustProxy;

    it('is off by default', () => {
      expect(trust()).toBe(false);
      expect(trust('false')).toBe(false);
      expect(trust('0')).toBe(false);
    });

    it('"true" trusts the one proxy in front, never every X-Forwarded-For entry a client can write', () => {
      expect(trust('true')).toBe(1);
      expect(trust('1')).toBe(1);
      expect(trust('2')).toBe(2);
    });

    it('takes proxy addresses and CIDRs, and refuses anything else', () => {
      expect(trust('10.0.0.0/8, 192.168.1.1,fd00::/8, loopback')).toBe('10.0.0.0/8,192.168.1.1,fd00::/8,loopback');
      for (const bad of ['everyone', '10.0.0.0/33', '10.0.0.1/8/1', '300.1.1.1', '11'])
        expect(problem({ TRUST_PROXY: bad })).toContain('TRUST_PROXY');
    });
  });

  describe('SESSION_MAX_DAYS', () => {
    it('defaults to 90 days and may not be shorter than a refresh token', () => {
      expect(loadConfig(env).security.sessionMaxDays).toBe(90);
      expect(loadConfig({ ...env, SESSION_MAX_DAYS: '30', REFRESH_TOKEN_TTL_DAYS: '30' }).security.sessionMaxDays).toBe(30);
      expect(problem({ SESSION_MAX_DAYS: '29' })).toContain('SESSION_MAX_DAYS must not be below REFRESH_TOKEN_TTL_DAYS');
      expect(problem({ SESSION_MAX_DAYS: '0' })).toContain('SESSION_MAX_DAYS');
    });
  });
});
