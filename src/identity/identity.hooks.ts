import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Role } from '../common/auth.decorators';

/** A user as other modules see it (never with the password hash). */
export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

/** A user whose password this request verified; `credentialStamp` identifies that password. */
export interface VerifiedUser extends UserRecord {
  credentialStamp: Buffer;
}

/** Where a request comes from. */
export interface ClientContext {
  ip: string;
  userAgent?: string;
  /** ISO 3166 alpha-2 country of the address, when a trusted edge reports it (FRAUD_IP_COUNTRY_HEADER). */
  ipCountry?: string;
}

/** One password check: a login, a re-authentication or a password change. */
export interface CredentialAttempt extends ClientContext {
  purpose: 'login' | 'reauth' | 'password_change';
  /** As typed by the client for a login; the account's address otherwise. */
  email: string;
  /** The device token a login presented (API.md "Device"). */
  deviceToken?: string;
}

/**
 * The login seam. Every password check runs `beforePasswordCheck` → verify → `afterPasswordCheck`;
 * a login whose password was right then runs `assessLogin` (which may refuse, e.g. STEP_UP_REQUIRED)
 * and `sessionStarted` inside the transaction that creates the session. The account-guard module
 * plugs its lockout, throttling, device and risk checks in here.
 */
export interface LoginGuard {
  /**
   * Refuse before any password is checked (throttled IP, locked account) by throwing an AppError.
   * What it returns is handed back to `afterPasswordCheck` (e.g. the id of the recorded attempt).
   */
  beforePasswordCheck(attempt: CredentialAttempt): Promise<unknown>;
  /** After the check, whatever its outcome (`user` is null for an unknown email). */
  afterPasswordCheck(attempt: CredentialAttempt, outcome: { user: UserRecord | null; ok: boolean }, ticket: unknown): Promise<void>;
  /**
   * The password was right and this is a login: refuse it (throw) or let it through. Anything it
   * opens for the user (a step-up challenge) must be written after `LoginService.lockCredential`.
   */
  assessLogin(attempt: CredentialAttempt, user: VerifiedUser): Promise<void>;
  /** In the transaction that creates the session; the result is merged into the login response. */
  sessionStarted(em: EntityManager, attempt: CredentialAttempt, user: UserRecord, sessionId: string): Promise<{ deviceToken?: string }>;
}

const NO_GUARD: LoginGuard = {
  beforePasswordCheck: async () => undefined,
  afterPasswordCheck: async () => undefined,
  assessLogin: async () => undefined,
  sessionStarted: async () => ({}),
};

/** Things that happened to an account, delivered inside the transaction that made them happen. */
export interface IdentityListener {
  /**
   * In the registration transaction, with where the sign-up came from: the fraud rules decide it here
   * (throwing refuses the sign-up and nothing is created) and the sign-up PROMO bonus is granted.
   */
  userRegistered?(em: EntityManager, user: UserRecord, ctx: ClientContext): Promise<void>;
  /** The address was proven for the first time (the email-verified PROMO bonus plugs in here). */
  emailVerified?(em: EntityManager, user: UserRecord): Promise<void>;
  passwordChanged?(em: EntityManager, user: UserRecord, how: 'change' | 'reset', ctx: ClientContext): Promise<void>;
  emailChanged?(em: EntityManager, user: UserRecord, previousEmail: string, ctx: ClientContext): Promise<void>;
  refreshTokenReused?(em: EntityManager, userId: string, sessionId: string, ctx: ClientContext): Promise<void>;
}

/** In a profile part's SQL: the caller's user id, and the business time. */
export const PROFILE_USER = 's.user_id';
export const PROFILE_NOW = 'k.at';

/**
 * Fields another module adds to `GET /me`, read in the statement that checks the session of every
 * authenticated request (so that `GET /me` makes one read): `sql` is one select-list expression over
 * PROFILE_USER and PROFILE_NOW, `view` turns its value into the fields.
 */
export interface ProfilePart {
  sql: string;
  view(value: unknown): Record<string, unknown>;
}

/** A second factor other modules provide (TOTP), usable for `POST /auth/reauth {totp}`. */
export interface SecondFactor {
  verifyTotp(user: { id: string; email: string }, code: string, ctx: ClientContext): Promise<boolean>;
}

type ListenerEvent = keyof IdentityListener;
type ListenerArgs<E extends ListenerEvent> = Parameters<NonNullable<IdentityListener[E]>>;

/**
 * Extension points of the identity module. Identity depends on nobody; modules built on it
 * (account-guard, ledger wiring) register here in their `onModuleInit`.
 */
@Injectable()
export class IdentityHooks {
  private guard: LoginGuard = NO_GUARD;
  private readonly listeners: IdentityListener[] = [];
  private readonly parts: ProfilePart[] = [];
  secondFactor?: SecondFactor;

  get loginGuard(): LoginGuard {
    return this.guard;
  }

  useLoginGuard(guard: LoginGuard): void {
    if (this.guard !== NO_GUARD) throw new Error('a login guard is already installed');
    this.guard = guard;
  }

  subscribe(listener: IdentityListener): void {
    this.listeners.push(listener);
  }

  /** Adds fields to `GET /me` (flags owned by other modules); in `onModuleInit`, before any request. */
  extendProfile(part: ProfilePart): void {
    this.parts.push(part);
  }

  get profileParts(): readonly ProfilePart[] {
    return this.parts;
  }

  async emit<E extends ListenerEvent>(event: E, ...args: ListenerArgs<E>): Promise<void> {
    for (const listener of this.listeners) {
      const handler = listener[event] as ((...a: ListenerArgs<E>) => Promise<void>) | undefined;
      if (handler) await handler.apply(listener, args);
    }
  }
}
