import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliRun, ServerProcess, startServerProcess } from '../support/child-processes';
import { createTestDatabase, TestDatabase } from '../support/test-db';

const ROOT = join(__dirname, '..', '..');

/** The bash blocks of the README's "Five-minute walkthrough" section, in order. */
function walkthroughBlocks(readme: string): string[] {
  const section = /\n## Five-minute walkthrough\n([\s\S]*?)\n## /.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Five-minute walkthrough" section');
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function runBash(script: string, env: Record<string, string>): Promise<CliRun> {
  const { TOKEN: _token, ADMIN_EMAIL: _email, ADMIN_PASSWORD: _password, ...rest } = process.env;
  const child = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd: ROOT, env: { ...rest, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the README walkthrough as it is written against a server started as `npm start` would (a child
 * process, on a database of its own), with two substitutions: that server's URL for
 * http://localhost:3000, and the CLI run from the sources instead of `npm run --silent cli --` (which
 * would build dist/ first).
 */
describe('the README walkthrough', () => {
  let db: TestDatabase;
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  const env = () => ({ NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: db.url, DATA_DIR: dataDir });

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'bazaar-walkthrough-'));
    server = await startServerProcess({ ...env(), DEV_ROUTES: 'true', PORT: '0' });
    base = server.base;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('has its blocks, the helpers first', () => {
    const blocks = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    expect(blocks[0]).toContain('BAZAAR=http://localhost:3000\n');
    expect(blocks.join('')).toContain('npm run --silent cli -- ');
  });

  it('runs from sign-up to the matured earnings', async () => {
    const cli = `"${process.execPath}" -r "${join(ROOT, 'test', 'support', 'swc-register.cjs')}" "${join(ROOT, 'src', 'cli.ts')}"`;
    const script = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'))
      .join('')
      .replace('BAZAAR=http://localhost:3000\n', `BAZAAR=${base}\n`)
      .replaceAll('npm run --silent cli -- ', `${cli} `);
    const run = await runBash(script, env());
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContain('Database: external PostgreSQL ' + db.url.replace(/^.*@/, '') + ' (DATABASE_URL)');
    // Bob after buying the hat, then Ada after the earnings hold.
    const balances = lines.filter((l) => l.startsWith('{"CREDIT":')).map((l) => JSON.parse(l) as { CREDIT: Record<string, number> });
    expect(balances.map((b) => b.CREDIT)).toEqual([
      expect.objectContaining({ wallet: 3900 }),
      expect.objectContaining({ wallet: 4500, earnings: 0, earnings_pending: 1000 }),
      expect.objectContaining({ wallet: 4500, earnings: 1000, earnings_pending: 0 }),
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^\{"ok":true,/));
  }, 240_000);
});
