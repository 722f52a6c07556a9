import type { Email } from '../notifications/mail.service';

/**
 * The emails identity sends. Links open the client app (WEB_APP_URL); in development the server itself
 * answers those paths with small pages (src/dev/dev-pages.controller.ts). `data` carries the token for
 * the dev mailbox (tests, demos).
 */
export const identityMails = {
  verifyEmail: (to: string, webAppUrl: string, token: string): Email => ({
    to,
    subject: 'Confirm your email address',
    text: `Confirm this address for your Bazaar account:\n\n${webAppUrl}/verify-email?token=${token}\n\nIf you did not sign up, ignore this email.`,
    data: { kind: 'email_verification', token },
  }),
  passwordReset: (to: string, webAppUrl: string, token: string, ttlSeconds: number): Email => ({
    to,
    subject: 'Reset your password',
    text: `Someone asked to reset the password of your Bazaar account. To choose a new one, open:\n\n${webAppUrl}/reset-password?token=${token}\n\nThe link works once, for ${linkLifetime(ttlSeconds)}. If it was not you, ignore this email.`,
    data: { kind: 'password_reset', token },
  }),
  emailChangedNotice: (to: string, newEmail: string): Email => ({
    to,
    subject: 'Your Bazaar email address was changed',
    text: `The email address of your Bazaar account was changed to ${newEmail}. If this was not you, reset your password and contact support at once.`,
    data: { kind: 'email_changed', newEmail },
  }),
};

function linkLifetime(seconds: number): string {
  if (seconds % 3600 !== 0) return `${Math.round(seconds / 60)} minutes`;
  return seconds === 3600 ? 'one hour' : `${seconds / 3600} hours`;
}
