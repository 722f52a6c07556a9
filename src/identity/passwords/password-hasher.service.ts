import { Injectable, OnModuleInit } from '@nestjs/common';
import { argon2id, hash, verify } from 'argon2';
import { normalizePassword } from './password.policy';

/** OWASP's argon2id baseline (19 MiB, 2 iterations, 1 lane). Existing hashes carry their own parameters. */
const ARGON2_OPTIONS = { type: argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasherService implements OnModuleInit {
  private dummy?: Promise<string>;

  /** The dummy hash is made at startup, so the first unknown email is not slower than later ones. */
  async onModuleInit(): Promise<void> {
    await this.dummyHash();
  }

  hash(password: string): Promise<string> {
    return hash(normalizePassword(password), ARGON2_OPTIONS);
  }

  /**
   * Checks a password against a stored hash. With no hash (unknown user) it verifies against a dummy
   * hash of the same cost and answers false, so both cases take the same time.
   */
  async verify(storedHash: string | null | undefined, password: string): Promise<boolean> {
    const digest = storedHash ?? (await this.dummyHash());
    let ok: boolean;
    try {
      ok = await verify(digest, normalizePassword(password));
    } catch {
      ok = false; // a malformed stored hash never matches
    }
    return ok && storedHash != null;
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= hash('dummy password that never matches', ARGON2_OPTIONS);
    return this.dummy;
  }
}
