import { createHmac } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.service';
import { DatabaseStartError } from '../database/database.errors';
import { AppConfig } from './app-config';
import { SecretFingerprint, SecretFingerprintsRepository } from './secret-fingerprints.repository';

/** An HMAC of a fixed label under each secret: equal for equal secrets, and reveals nothing of them. */
export function secretFingerprints(config: AppConfig): SecretFingerprint[] {
  const of = (name: string, secret: string | Buffer) => ({
    name,
    fingerprint: createHmac('sha256', secret).update(`bazaar secret fingerprint: ${name}`).digest('hex'),
  });
  return [of('JWT_SECRET', config.jwtSecret), of('ENCRYPTION_KEY', config.encryptionKey)];
}

/**
 * Every process on one database must hold the same JWT_SECRET (tokens one signs, another verifies)
 * and ENCRYPTION_KEY (secrets one encrypts, another decrypts). The first process to start records
 * their fingerprints; a process started with other secrets refuses to start, naming them.
 */
@Injectable()
export class SecretFingerprintsService implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly repo: SecretFingerprintsRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    const mine = secretFingerprints(this.config);
    const recorded = await this.repo.recordFirst(this.dataSource, mine, this.clock.now());
    const differ = mine.filter((m) => recorded.get(m.name) !== m.fingerprint).map((m) => m.name);
    if (!differ.length) return;
    const generated = differ.filter((name) => (this.config.generatedSecrets as string[]).includes(name));
    throw new DatabaseStartError(
      [
        `Refusing to start: ${differ.join(' and ')} ${differ.length > 1 ? 'differ' : 'differs'} from the one this database was first started with.`,
        `Every process on one database needs the same JWT_SECRET and ENCRYPTION_KEY: set ${differ.join(' and ')} to the other processes' value.`,
        generated.length
          ? `(${generated.join(' and ')} ${generated.length > 1 ? 'were' : 'was'} not set here, so generated for DATA_DIR, or for this process alone without one.)`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
}
