import type { SecurityConfig } from '../config/app-config';
import type { Email } from '../notifications/mail.service';
import { ADMIN_ACCOUNT_HOLD } from './account-hold-references';
import type { SecurityEventKind } from './security-events.service';

/** The emails the account guard sends besides security notices. `data` carries the code for the dev mailbox. */
export const accountGuardMails = {
  stepUpCode: (to: string, code: string, challengeId: string, ttlSeconds: number): Email => ({
    to,
    subject: `Your Bazaar sign-in code: ${code}`,
    text: `Someone (hopefully you) is signing in to your account from a new device. Your code is ${code}; it works once, for ${Math.round(ttlSeconds / 60)} minutes.\n\nIf this was not you, do not share the code: reset your password.`,
    data: { kind: 'step_up_code', code, challengeId },
  }),
};

export interface SecurityNotice {
  subject: string;
  text: string;
}

/** "72 hours", "5 days": whole days from 4 days up, hours below (as the defaults have always been written). */
export function describeHours(hours: number): string {
  if (hours % 24 === 0 && hours > 72) return `${hours / 24} days`;
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

/** The cooling sentence of a notice, or nothing when that cooling period is configured off. */
function cooling(hours: number): string {
  return hours > 0 ? ` For ${describeHours(hours)} no credits can leave the account.` : '';
}

/**
 * The email the account holder gets for a security event (undefined: none). Durations come from the
 * configuration, so the notice says what the guard enforces.
 */
export function securityNotice(kind: SecurityEventKind, s: SecurityConfig, data: Record<string, unknown> = {}): SecurityNotice | undefined {
  switch (kind) {
    case 'new_device_login':
      return {
        subject: 'New sign-in to your Bazaar account',
        text: `Your account was just signed in to from a new device.${cooling(s.coolingNewDeviceHours)} If this was not you, reset your password and freeze your account now.`,
      };
    case 'account_locked':
      return {
        subject: 'Your Bazaar account was locked after failed sign-ins',
        text: 'Several wrong passwords were entered for your account, so sign-ins are paused for a while. If this was not you, consider resetting your password.',
      };
    case 'password_changed':
      return {
        subject: 'Your Bazaar password was changed',
        text: 'Your password was changed and your other sessions were signed out. If this was not you, reset your password now.',
      };
    case 'password_reset':
      return {
        subject: 'Your Bazaar password was reset',
        text: `Your password was reset and every session was signed out.${cooling(s.coolingPasswordResetHours)} If this was not you, contact support at once.`,
      };
    case 'email_changed':
      return {
        subject: 'Your Bazaar email address was changed',
        text: `The email address of your account was changed.${cooling(s.coolingEmailChangeHours)}`,
      };
    case 'totp_enabled':
      return { subject: 'Two-factor authentication is on', text: 'An authenticator app now protects your Bazaar account.' };
    case 'totp_disabled':
      return {
        subject: 'Two-factor authentication was turned off',
        text: `Two-factor authentication was turned off for your account.${cooling(s.coolingTotpDisabledHours)} If this was not you, reset your password and freeze your account now.`,
      };
    case 'refresh_token_reuse':
      return {
        subject: 'A stolen sign-in may have been used',
        text: 'An old sign-in token of your account was presented again, so that session was signed out everywhere. If you did not expect this, change your password.',
      };
    case 'account_frozen':
      return { subject: 'Your Bazaar account is frozen', text: 'No credits can leave your account until you unfreeze it.' };
    case 'unfreeze_requested': {
      const when = s.unfreezeDelayHours > 0 ? `in ${describeHours(s.unfreezeDelayHours)}` : 'at once';
      return {
        subject: 'Your Bazaar account will be unfrozen',
        text: `Someone signed in to your account asked to unfreeze it; this takes effect ${when}. If this was not you, freeze the account again and reset your password.`,
      };
    }
    case 'account_held':
      return {
        subject: 'Your Bazaar account is on hold',
        text: `${data.reference === ADMIN_ACCOUNT_HOLD ? 'Our team has put your account on hold.' : 'Your account was put on hold.'} No credits can leave it until the hold is released. Contact support to learn more.`,
      };
    case 'account_released':
      return data.stillOnHold === true
        ? {
            subject: 'A hold on your Bazaar account was released',
            text: 'A hold on your account was released; another hold remains, so no credits can leave it yet.',
          }
        : { subject: 'The hold on your Bazaar account was released', text: 'The hold on your account was released.' };
    default:
      return undefined;
  }
}
