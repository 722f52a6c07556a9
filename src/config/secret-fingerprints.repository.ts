import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql';

export interface SecretFingerprint {
  name: string;
  fingerprint: string;
}

/** secret_fingerprints: which secrets the database belongs to, as recorded by its first process. */
@Injectable()
export class SecretFingerprintsRepository {
  /** Records the fingerprints the database has none of yet; answers every recorded one (the first process's). */
  async recordFirst(db: DataSource, mine: SecretFingerprint[], now: Date): Promise<Map<string, string>> {
    await queryRows(
      db,
      `INSERT INTO secret_fingerprints (name, fingerprint, recorded_at)
       SELECT name, fingerprint, $2 FROM jsonb_to_recordset($1::jsonb) AS f(name text, fingerprint text)
       ON CONFLICT (name) DO NOTHING`,
      [JSON.stringify(mine), now],
    );
    const rows = await queryRows<SecretFingerprint>(db, `SELECT name, fingerprint FROM secret_fingerprints`);
    return new Map(rows.map((r) => [r.name, r.fingerprint]));
  }
}
