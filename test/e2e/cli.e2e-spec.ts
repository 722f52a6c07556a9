import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runningEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { strongPassword, uniqueEmail } from '../support/auth';
import { runCliProcess, ServerProcess, startServerProcess } from '../support/child-processes';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * `npm run cli` beside a running server (`npm start`), both as child processes on one DATA_DIR: every
 * command connects to the server's embedded PostgreSQL and says so; another DATA_DIR is refused rather
 * than given a second database; DATABASE_URL is used when set.
 */
describe('the CLI beside the running server', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bazaar-cli-'));
    dirs.push(dir);
    return dir;
  };
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let pgPort: number;
  const cli = (args: string[], stdin = '', env: Record<string, string> = {}) => runCliProcess(args, { DATA_DIR: dataDir, ...env }, stdin);
  const api = async (method: string, path: string, body?: object, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const runningLine = () => `Database: embedded PostgreSQL 127.0.0.1:${pgPort}/bazaar (running on DATA_DIR ${dataDir}, pid `;

  beforeAll(async () => {
    dataDir = tempDir();
    server = await startServerProcess({ DATA_DIR: dataDir, PORT: '0' });
    base = server.base;
    pgPort = runningEmbeddedPostgres(dataDir)!.port;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    for (const dir of dirs) {
      // A database a failed start left behind (never the case when all went well).
      const orphan = runningEmbeddedPostgres(dir);
      if (orphan) process.kill(orphan.pid, 'SIGTERM');
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('migrate status: the running server database, every migration applied', async () => {
    const res = await cli(['migrate', 'status']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toContain(runningLine());
    expect(res.stdout).toMatch(/Applied: (\d+) of \1 migrations\nPending: none/);
    expect(await cli(['migrate', 'run'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Up to date: no migration pending.') });
  }, 60_000);

  it('create-admin: the password from stdin; the admin signs in to the running server', async () => {
    const email = uniqueEmail('cli-admin');
    const password = strongPassword();
    const res = await cli(['create-admin', '--email', email], `${password}\n`);
    expect(res).toMatchObject({ code: 0, stdout: expect.stringContaining(`Created admin account ${email}`) });
    expect(res.stdout).toContain(runningLine());
    expect(`${res.stdout}${res.stderr}`).not.toContain(password);
    const login = await api('POST', '/auth/login', { email, password });
    expect(login).toMatchObject({ status: 200, body: { user: { roles: ['buyer', 'admin'] } } });

    const flag = await cli(['create-admin', '--email', uniqueEmail('cli-flag'), '--password', password]);
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringContaining('--password is not accepted') });
    expect(`${flag.stdout}${flag.stderr}`).not.toContain(password);
    const fromEnv = await cli(['create-admin', '--email', email], '', { ADMIN_PASSWORD: password });
    expect(fromEnv).toMatchObject({ code: 0, stdout: expect.stringContaining(`Already an admin: ${email}`) });
  }, 60_000);

  it('seed: demo accounts through the real services, once; the ledger verifies (also as JSON)', async () => {
    const res = await cli(['seed']);
    expect(res).toMatchObject({ code: 0, stdout: expect.stringContaining('Demo data created.') });
    expect(res.stdout).toContain(runningLine());
    const accounts = [...res.stdout.matchAll(/^ {2}(admin|creator|buyer) +(\S+) +(\S+)/gm)].map(([, role, email, password]) => ({
      role,
      email,
      password,
    }));
    expect(accounts.map((a) => a.role)).toEqual(['admin', 'creator', 'creator', 'buyer', 'buyer']);

    // Every printed account signs in; buyers have credits; the creators' listings are published.
    for (const a of accounts) expect((await api('POST', '/auth/login', { email: a.email, password: a.password })).status).toBe(200);
    const buyer = accounts.find((a) => a.role === 'buyer')!;
    const token = (await api('POST', '/auth/login', { email: buyer.email, password: buyer.password })).body.accessToken as string;
    const balances = JSON.stringify((await api('GET', '/me/balances', undefined, token)).body);
    expect(balances).toMatch(/CREDIT/);
    const listings = (await api('GET', '/listings')).body.items as { title: string }[];
    expect(listings.map((l) => l.title).sort()).toEqual(['Comet earrings', 'Neon sneakers', 'Pixel beanie', 'Starlight gown']);

    expect(await cli(['seed'])).toMatchObject({ code: 1, stderr: expect.stringContaining('The demo data is already there') });
    expect((await api('GET', '/listings')).body.items).toHaveLength(4);

    const verify = await cli(['ledger', 'verify']);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringContaining('Ledger OK') });
    expect(verify.stdout).toContain(runningLine());
    const json = await cli(['ledger', 'verify', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, chainOk: true });
    expect(json.stderr).toContain(runningLine());
    // `npm run ledger:verify` is this command.
    const scripts = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['ledger:verify']).toMatch(/node dist\/src\/cli\.js ledger verify$/);
  }, 120_000);

  it('another DATA_DIR without a database: every command but migrate run refuses, creating none', async () => {
    const other = tempDir();
    for (const args of [['migrate', 'status'], ['ledger', 'verify'], ['seed'], ['create-admin', '--email', uniqueEmail('nodb')]]) {
      const res = await runCliProcess(args, { DATA_DIR: other }, `${strongPassword()}\n`);
      expect(res).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`No database: DATA_DIR ${other} holds no embedded PostgreSQL`),
      });
      expect(res.stdout).not.toContain('Database:');
    }
    expect(existsSync(join(other, 'pg'))).toBe(false);

    // migrate run creates it; afterwards a command starts that database itself (no server runs on it).
    const created = await runCliProcess(['migrate', 'run'], { DATA_DIR: other });
    expect(created).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/Database: embedded PostgreSQL 127\.0\.0\.1:\d+\/bazaar \(DATA_DIR .*, created by this command\)/),
    });
    expect(created.stdout).toMatch(/Applied \d+ migration\(s\)/);
    const status = await runCliProcess(['migrate', 'status'], { DATA_DIR: other });
    expect(status).toMatchObject({ code: 0, stdout: expect.stringContaining('started for this command: no server is running on it') });
    expect(status.stdout).toContain('Pending: none');
    expect(runningEmbeddedPostgres(other)).toBeUndefined();
  }, 180_000);

  describe('with DATABASE_URL', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(() => db?.drop());

    it('uses that database and says so', async () => {
      const res = await runCliProcess(['ledger', 'verify'], { DATA_DIR: tempDir(), DATABASE_URL: db.url });
      expect(res).toMatchObject({ code: 0, stdout: expect.stringContaining('Ledger OK') });
      expect(res.stdout).toContain(`Database: external PostgreSQL 127.0.0.1:${new URL(db.url).port}/${db.name} (DATABASE_URL)`);
    }, 60_000);
  });
});
