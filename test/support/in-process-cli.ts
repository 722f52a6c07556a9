import { Readable } from 'node:stream';
import { runCli } from '../../src/cli';
import { TestApp } from './test-app';

/**
 * Runs the CLI against the test's running application and database, capturing what it prints (`stdin`
 * piped); `opened`: how many times the command opened the application.
 */
export async function runCliIn(t: TestApp, argv: string[], opts: { env?: Record<string, string>; stdin?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let opened = 0;
  const code = await runCli(argv, {
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: t.db.url,
      JWT_SECRET: t.config.jwtSecret,
      ENCRYPTION_KEY: t.config.encryptionKey.toString('base64'),
      DATABASE_POOL_SIZE: '2',
      ...opts.env,
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    stdin: Readable.from([opts.stdin ?? '']),
    prompt: (text) => err.push(text),
    open: async (config, url) => {
      expect(url).toBe(t.db.url);
      opened++;
      return { app: t.app, close: async () => undefined };
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), opened };
}
