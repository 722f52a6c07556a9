/** Where the CLI reads a password from: never the command line, which shells, `ps` and npm's echo show. */

export interface CliInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  once(event: 'end' | 'error', listener: (arg?: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
  pause(): unknown;
  resume(): unknown;
}

export const PASSWORD_ENV = 'ADMIN_PASSWORD';

/**
 * ADMIN_PASSWORD when set; otherwise the first line of stdin when it is piped; otherwise a prompt on
 * the terminal that echoes nothing (asked twice, so a typo cannot create an unknown password).
 */
export async function readPassword(
  env: Record<string, string | undefined>,
  input: CliInput,
  write: (text: string) => void,
): Promise<string | undefined> {
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!input.isTTY || !input.setRawMode) return firstLine(input);
  const first = await prompt(input, write, 'Password for the admin (not shown): ');
  const again = await prompt(input, write, 'Repeat it: ');
  if (first !== again) throw new PasswordInputError('The two passwords differ: nothing done.');
  return first;
}

export class PasswordInputError extends Error {}

async function firstLine(input: CliInput): Promise<string | undefined> {
  const chunks: string[] = [];
  await new Promise<void>((resolve, reject) => {
    input.setEncoding?.('utf8');
    input.on('data', (chunk) => {
      chunks.push(String(chunk));
      if (chunks.join('').includes('\n')) resolve();
    });
    input.once('end', () => resolve());
    input.once('error', reject);
    input.resume();
  });
  input.removeAllListeners('data');
  input.pause();
  const line = chunks.join('').split(/\r?\n/)[0];
  return line === '' ? undefined : line;
}

async function prompt(input: CliInput, write: (text: string) => void, question: string): Promise<string> {
  write(question);
  input.setRawMode!(true);
  input.setEncoding?.('utf8');
  let typed = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      input.on('data', (chunk) => {
        for (const ch of String(chunk)) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') return resolve(typed);
          if (ch === '\u0003') return reject(new PasswordInputError('Cancelled.'));
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      });
      input.resume();
    });
  } finally {
    input.removeAllListeners('data');
    input.setRawMode!(false);
    input.pause();
    write('\n');
  }
}
