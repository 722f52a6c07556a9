import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runningEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { packageBinaries, reachableBy, sharedBinaries, sharedDataHome } from '../../src/database/postgres-placement';
import { runCliProcess, ServerProcess, startServerProcess } from '../support/child-processes';

/**
 * `npm start` (src/main.ts, as a child process) with DATA_DIR in a folder only its owner can enter
 * (mode 700), as from a clone in /root. As root, PostgreSQL runs as the postgres user, which cannot
 * enter that folder: the data goes to EMBEDDED_PG_SHARED_DIR and DATA_DIR/pg links to it, and the
 * private folder stays closed. As anyone else, the data stays in DATA_DIR. Either way the CLI finds
 * the running server through DATA_DIR.
 */
describe('embedded PostgreSQL started from a private folder', () => {
  const asRoot = process.getuid?.() === 0;
  const temp = (prefix: string) => realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  let privateDir: string;
  let shared: string;
  let dataDir: string;
  let server: ServerProcess | undefined;
  const start = () => startServerProcess({ DATA_DIR: dataDir, PORT: '0', EMBEDDED_PG_SHARED_DIR: shared });

  beforeAll(() => {
    privateDir = temp('bazaar-private-');
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    dataDir = join(privateDir, 'data');
    shared = temp('bazaar-shared-');
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(privateDir, { recursive: true, force: true });
    rmSync(shared, { recursive: true, force: true });
  }, 60_000);

  it('a shared dir the postgres user cannot enter: as root, one line saying what to do; otherwise it is not needed', async () => {
    // mkdtemp made it mode 700.
    if (asRoot) {
      const failed = await start().then(
        (s) => s.stop().then(() => 'started'),
        (err: Error) => err.message,
      );
      const lines = failed.split('\n').filter(Boolean);
      expect(lines[0]).toBe('the server exited (1):');
      expect(lines.slice(1)).toEqual([
        `Starting embedded PostgreSQL (data in ${dataDir}/pg) ...`,
        expect.stringMatching(/EMBEDDED_PG_SHARED_DIR \(.*\), which postgres cannot reach either: make it .* or set DATABASE_URL\.$/),
      ]);
      expect(existsSync(join(dataDir, 'pg'))).toBe(false);
    } else {
      server = await start();
      expect(lstatSync(join(dataDir, 'pg')).isDirectory()).toBe(true);
      await server.stop();
      server = undefined;
    }
  }, 180_000);

  it('starts, serves, and the CLI joins it through DATA_DIR; the private folder stays closed', async () => {
    chmodSync(shared, 0o755);
    server = await start();
    expect((await fetch(`${server.base}/health/ready`)).status).toBe(200);
    const pg = join(dataDir, 'pg');
    const running = runningEmbeddedPostgres(dataDir);
    expect(running).toBeDefined();
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    if (asRoot) {
      const home = sharedDataHome(shared, dataDir);
      expect(lstatSync(pg).isSymbolicLink()).toBe(true);
      expect(realpathSync(pg)).toBe(join(home, 'pg'));
      const owner = statSync(home);
      expect(owner.uid).not.toBe(0);
      expect(owner.mode & 0o777).toBe(0o700);
      const { nativeDir, version } = packageBinaries();
      const linked = !reachableBy(join(nativeDir, 'bin', 'postgres'), { name: 'postgres', uid: owner.uid, gid: owner.gid });
      expect(readdirSync(shared).sort()).toEqual(linked ? [basename(home), `postgres-${version}`] : [basename(home)]);
      if (linked) expect(existsSync(join(sharedBinaries(shared, version), 'bin', 'postgres'))).toBe(true);
    } else {
      expect(lstatSync(pg).isDirectory()).toBe(true);
      expect(readdirSync(shared)).toEqual([]);
    }

    const status = await runCliProcess(['migrate', 'status'], { DATA_DIR: dataDir });
    expect(status).toMatchObject({ code: 0, stdout: expect.stringContaining(`(running on DATA_DIR ${dataDir}, pid ${running!.pid})`) });
    expect(status.stdout).toMatch(/Pending: none/);

    await server.stop();
    server = undefined;
    expect(runningEmbeddedPostgres(dataDir)).toBeUndefined();
    expect(existsSync(join(pg, 'PG_VERSION'))).toBe(true);
  }, 180_000);
});
