import { parseArgs } from 'node:util';
import { ensureAdmin } from '../boot';
import { passwordProblem } from '../identity/passwords/password.policy';
import { assertMigrated } from './cli-database';
import { CliDeps, withDatabase } from './cli-context';
import { PasswordInputError, readPassword } from './password-input';

export const CREATE_ADMIN_USAGE = `create-admin --email <address>
    Creates an admin account (email verified), or grants the admin role to an existing account when the
    password given is that account's own (left unchanged); any other password is refused (exit code 1).
    The password comes from ADMIN_PASSWORD, else the first line of stdin, else a prompt that shows
    nothing: never from the command line.`;

const NO_PASSWORD_FLAG = `--password is not accepted: a password on the command line shows in the shell history, in the
process list and in npm's command echo. Give it at the prompt, on stdin
(printf '%s\\n' "$PASSWORD" | npm run cli -- create-admin --email you@example.com) or in ADMIN_PASSWORD.`;

export async function createAdmin(args: string[], deps: CliDeps): Promise<number> {
  let values: { email?: string; password?: string };
  try {
    // `password` is parsed only to refuse it by name.
    ({ values } = parseArgs({ args, options: { email: { type: 'string' }, password: { type: 'string' } }, strict: true }));
  } catch {
    // parseArgs would quote the offending argument, which may be a mistyped password: not echoed.
    deps.err(`Unknown or malformed arguments.\n\nUsage: npm run cli -- ${CREATE_ADMIN_USAGE}`);
    return 2;
  }
  if (values.password !== undefined) {
    deps.err(NO_PASSWORD_FLAG);
    return 2;
  }
  if (!values.email) {
    deps.err(`Usage: npm run cli -- ${CREATE_ADMIN_USAGE}`);
    return 2;
  }
  const email = values.email;
  let password: string | undefined;
  try {
    password = await readPassword(deps.env, deps.stdin, deps.prompt);
  } catch (err) {
    if (!(err instanceof PasswordInputError)) throw err;
    deps.err(err.message);
    return 1;
  }
  if (!password) {
    deps.err('No password given (ADMIN_PASSWORD, stdin or the prompt): nothing done.');
    return 2;
  }
  // Checked before anything starts, so a typo costs no database start-up.
  const problem = passwordProblem(password);
  if (problem) {
    deps.err(`Cannot create the admin: password ${problem}`);
    return 1;
  }
  return withDatabase(deps, {}, async (db, config) => {
    await assertMigrated(db.url);
    const opened = await deps.open(config, db.url);
    try {
      const result = await ensureAdmin(opened.app, email, password, 'cli create-admin');
      if ('error' in result) {
        deps.err(`Cannot create the admin: ${result.error}`);
        return 1;
      }
      const what = result.created ? 'Created admin account' : result.promoted ? 'Granted the admin role to' : 'Already an admin:';
      deps.out(`${what} ${email} (id ${result.userId})`);
      return 0;
    } finally {
      await opened.close();
    }
  });
}
