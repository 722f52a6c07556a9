import { ConfigError, loadConfig } from '../config/app-config';
import { assessLoginRisk, RiskSignals } from './login-risk.policy';

const env = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};
/** The documented defaults, as the application loads them. */
const defaults = loadConfig(env).security.loginRisk;
const assess = (s: RiskSignals) => assessLoginRisk(s, defaults);

const known: RiskSignals = {
  hasDevices: true,
  knownDevice: true,
  hasNetworks: true,
  knownNetwork: true,
  recentFailures: 0,
  ipFailedAccounts: 0,
};

describe('login risk', () => {
  it('lets a known device on a known network through', () => {
    expect(assess(known)).toEqual({ score: 0, reasons: [], stepUp: false });
  });

  it('never treats the first device or first network of an account as new', () => {
    const first = { ...known, hasDevices: false, knownDevice: false, hasNetworks: false, knownNetwork: false };
    expect(assess(first).stepUp).toBe(false);
  });

  it('asks for a step-up for a new device plus a new network', () => {
    const r = assess({ ...known, knownDevice: false, knownNetwork: false });
    expect(r).toEqual({ score: 80, reasons: ['new_device', 'new_network'], stepUp: true });
  });

  it('asks for a step-up for a new device plus recent failures, not for a new device alone', () => {
    expect(assess({ ...known, knownDevice: false }).stepUp).toBe(false);
    expect(assess({ ...known, knownDevice: false, recentFailures: 2 }).stepUp).toBe(false);
    expect(assess({ ...known, knownDevice: false, recentFailures: 3 }).stepUp).toBe(true);
  });

  it('asks for a step-up for a new device from an IP failing on many accounts', () => {
    expect(assess({ ...known, knownDevice: false, ipFailedAccounts: 4 }).stepUp).toBe(false);
    expect(assess({ ...known, knownDevice: false, ipFailedAccounts: 5 })).toMatchObject({
      stepUp: true,
      reasons: ['new_device', 'ip_failing_on_many_accounts'],
    });
  });

  it('lets a known device through even from a new network with a few failures', () => {
    expect(assess({ ...known, knownNetwork: false, recentFailures: 5 }).stepUp).toBe(false);
  });
});

describe('login risk configuration (LOGIN_RISK_*)', () => {
  it('defaults to ECONOMY.md: new device 50, new network 30, failures 30, spraying IP 40, step-up at 80', () => {
    expect(defaults).toEqual({
      newDevice: 50,
      newNetwork: 30,
      recentFailures: 30,
      ipFailingOnManyAccounts: 40,
      stepUpAt: 80,
      recentFailuresFrom: 3,
      ipFailedAccountsFrom: 5,
    });
  });

  it('takes overrides from the environment, and the assessment follows them', () => {
    const strict = loadConfig({ ...env, LOGIN_RISK_STEP_UP_AT: '50', LOGIN_RISK_RECENT_FAILURES_FROM: '1' }).security.loginRisk;
    expect(strict).toMatchObject({ stepUpAt: 50, recentFailuresFrom: 1, newDevice: 50 });
    const newDeviceOnly = { ...known, knownDevice: false };
    expect(assessLoginRisk(newDeviceOnly, defaults).stepUp).toBe(false);
    expect(assessLoginRisk(newDeviceOnly, strict).stepUp).toBe(true);
    expect(assessLoginRisk({ ...known, recentFailures: 1 }, strict)).toEqual({ score: 30, reasons: ['recent_failures'], stepUp: false });
  });

  it('refuses bad values, and a threshold no login could ever reach', () => {
    const problems = (over: Record<string, string>) => {
      try {
        loadConfig({ ...env, ...over });
        return '';
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
    };
    expect(problems({ LOGIN_RISK_NEW_DEVICE: '-5' })).toContain('LOGIN_RISK_NEW_DEVICE');
    expect(problems({ LOGIN_RISK_NEW_NETWORK: 'high' })).toContain('LOGIN_RISK_NEW_NETWORK');
    expect(problems({ LOGIN_RISK_STEP_UP_AT: '0' })).toContain('LOGIN_RISK_STEP_UP_AT');
    expect(problems({ LOGIN_RISK_IP_FAILED_ACCOUNTS_FROM: '0' })).toContain('LOGIN_RISK_IP_FAILED_ACCOUNTS_FROM');
    expect(problems({ LOGIN_RISK_STEP_UP_AT: '151' })).toMatch(/LOGIN_RISK_STEP_UP_AT is above the sum/);
    expect(problems({ LOGIN_RISK_STEP_UP_AT: '150' })).toBe('');
  });
});
