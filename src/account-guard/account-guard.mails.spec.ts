import { loadConfig } from '../config/app-config';
import { describeHours, securityNotice } from './account-guard.mails';

const security = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', ...env }).security;

describe('security notices', () => {
  it('state the configured cooling periods and unfreeze delay (defaults as before)', () => {
    const s = security();
    expect(securityNotice('new_device_login', s)?.text).toContain('For 72 hours no credits');
    expect(securityNotice('password_reset', s)?.text).toContain('For 5 days no credits');
    expect(securityNotice('email_changed', s)?.text).toContain('For 5 days no credits');
    expect(securityNotice('totp_disabled', s)?.text).toContain('For 7 days no credits');
    expect(securityNotice('unfreeze_requested', s)?.text).toContain('takes effect in 24 hours');
  });

  it('follow other settings, and leave out a cooling period that is off', () => {
    const s = security({
      COOLING_NEW_DEVICE_HOURS: '36',
      COOLING_PASSWORD_RESET_HOURS: '240',
      COOLING_EMAIL_CHANGE_HOURS: '0',
      COOLING_TOTP_DISABLED_HOURS: '1',
      UNFREEZE_DELAY_HOURS: '0',
    });
    expect(securityNotice('new_device_login', s)?.text).toContain('For 36 hours no credits');
    expect(securityNotice('password_reset', s)?.text).toContain('For 10 days no credits');
    expect(securityNotice('email_changed', s)?.text).toBe('The email address of your account was changed.');
    expect(securityNotice('totp_disabled', s)?.text).toContain('For 1 hour no credits');
    expect(securityNotice('unfreeze_requested', s)?.text).toContain('takes effect at once');
  });

  it('say whether a released hold leaves another one, and who placed a hold', () => {
    const s = security();
    expect(securityNotice('account_released', s, { stillOnHold: true })?.text).toMatch(/another hold remains/);
    expect(securityNotice('account_released', s, { stillOnHold: false })?.text).toBe('The hold on your account was released.');
    expect(securityNotice('account_held', s, { reference: 'admin' })?.text).toMatch(/^Our team/);
    expect(securityNotice('account_held', s, { reference: 'dispute:dp_1' })?.text).toMatch(/^Your account was put on hold/);
    expect(securityNotice('step_up_required', s)).toBeUndefined();
  });

  it('write durations in hours below 4 days and whole days from there', () => {
    expect([1, 24, 72, 96, 100, 120, 168].map(describeHours)).toEqual([
      '1 hour',
      '24 hours',
      '72 hours',
      '4 days',
      '100 hours',
      '5 days',
      '7 days',
    ]);
  });
});
