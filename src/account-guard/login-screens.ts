import { Injectable } from '@nestjs/common';
import type { CredentialAttempt, UserRecord } from '../identity/identity.hooks';

/** What a screen answers about a login whose password was right; the strongest answer of all screens counts. */
export const LOGIN_VERDICTS = ['ALLOW', 'REVIEW', 'BLOCK'] as const;
export type LoginVerdict = (typeof LOGIN_VERDICTS)[number];

/** A login as the account guard assessed it, before any challenge or session exists. */
export interface ScreenedLogin {
  /** A fresh id for this attempt; a step-up challenge opened for it takes the same id. */
  attemptId: string;
  attempt: CredentialAttempt;
  user: UserRecord;
  /** As the risk policy sees them (login-risk.policy.ts): the account's first device or network is never new. */
  deviceIsNew: boolean;
  networkIsNew: boolean;
  /** The device cluster of the token the login presented (whichever account's); null for an unknown or missing token. */
  deviceId: string | null;
}

/** Judges a login outside any transaction; REVIEW asks for the step-up, BLOCK refuses the login. */
export type LoginScreen = (login: ScreenedLogin) => Promise<LoginVerdict>;

/**
 * The account guard's seam for modules above it (the fraud rules) to judge logins: they register a
 * screen in their `onModuleInit`, and `StepUpService.assess` asks every screen about each login.
 */
@Injectable()
export class LoginScreens {
  private readonly screens: LoginScreen[] = [];

  use(screen: LoginScreen): void {
    this.screens.push(screen);
  }

  async verdict(login: ScreenedLogin): Promise<LoginVerdict> {
    let verdict: LoginVerdict = 'ALLOW';
    for (const screen of this.screens) {
      const v = await screen(login);
      if (LOGIN_VERDICTS.indexOf(v) > LOGIN_VERDICTS.indexOf(verdict)) verdict = v;
      if (verdict === 'BLOCK') break;
    }
    return verdict;
  }
}
