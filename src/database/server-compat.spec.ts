import { DatabaseStartError } from './database.errors';
import { assertSupportedVersion, majorVersion } from './server-compat';

describe('server version', () => {
  it('reads the major version of server_version_num', () => {
    expect([majorVersion(150018), majorVersion(160004), majorVersion(180001), majorVersion(140011)]).toEqual([15, 16, 18, 14]);
  });

  it('refuses below 15 in one line naming the version found and the one needed', () => {
    const check = () => assertSupportedVersion('14.11 (Debian 14.11-1)', 140011, 'db.example.com:5432/bazaar');
    expect(check).toThrow(DatabaseStartError);
    expect(check).toThrow(
      'PostgreSQL 14.11 (Debian 14.11-1) at db.example.com:5432/bazaar is too old: Bazaar needs PostgreSQL 15 or later (15-18 are tested).',
    );
    expect(() => assertSupportedVersion('15.0', 150000, 'h:5432/d')).not.toThrow();
  });
});
