import { assessLoginRisk, RiskSignals } from './login-risk';

const known: RiskSignals = { hasDevices: true, knownDevice: true, hasNetworks: true, knownNetwork: true, recentFailures: 0, ipFailedAccounts: 0 };

describe('login risk', () => {
  it('lets a known device on a known network through', () => {
    expect(assessLoginRisk(known)).toEqual({ score: 0, reasons: [], stepUp: false });
  });

  it('never treats the first device or first network of an account as new', () => {
    const first = { ...known, hasDevices: false, knownDevice: false, hasNetworks: false, knownNetwork: false };
    expect(assessLoginRisk(first).stepUp).toBe(false);
  });

  it('asks for a step-up for a new device plus a new network', () => {
    const r = assessLoginRisk({ ...known, knownDevice: false, knownNetwork: false });
    expect(r).toEqual({ score: 80, reasons: ['new_device', 'new_network'], stepUp: true });
  });

  it('asks for a step-up for a new device plus recent failures, not for a new device alone', () => {
    expect(assessLoginRisk({ ...known, knownDevice: false }).stepUp).toBe(false);
    expect(assessLoginRisk({ ...known, knownDevice: false, recentFailures: 2 }).stepUp).toBe(false);
    expect(assessLoginRisk({ ...known, knownDevice: false, recentFailures: 3 }).stepUp).toBe(true);
  });

  it('asks for a step-up for a new device from an IP failing on many accounts', () => {
    expect(assessLoginRisk({ ...known, knownDevice: false, ipFailedAccounts: 4 }).stepUp).toBe(false);
    expect(assessLoginRisk({ ...known, knownDevice: false, ipFailedAccounts: 5 })).toMatchObject({
      stepUp: true,
      reasons: ['new_device', 'ip_failing_on_many_accounts'],
    });
  });

  it('lets a known device through even from a new network with a few failures', () => {
    expect(assessLoginRisk({ ...known, knownNetwork: false, recentFailures: 5 }).stepUp).toBe(false);
  });
});
