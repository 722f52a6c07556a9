import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/** Nest's own start-up lines (one per module, controller and route) and the sandbox's: debug, not info. */
const BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'StripeSandbox']);

/** How Nest's exception handlers call `error`: a message, then the stack as a string. */
const STACK = /\n\s*at /;

/**
 * The application's Nest logger: each line goes to the pino logger with its `context` (the last
 * argument), an object message merged into the line and an Error as `err`; Nest's start-up chatter
 * is moved down to debug, so that an info-level boot shows only what matters (and the banner main.ts
 * prints last).
 */
export class BootQuietLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    this.write(typeof context === 'string' && BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const fields: Record<string, unknown> = {};
    if (params.length > 0) fields.context = params.pop();
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, ...(params as []));
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...fields, ...message }, ...(params as []));
    else if (
      level === 'error' &&
      typeof message === 'string' &&
      params.length === 1 &&
      typeof params[0] === 'string' &&
      STACK.test(params[0])
    ) {
      const err = new Error(message);
      err.stack = params[0];
      this.pino[level]({ ...fields, err });
    } else this.pino[level](fields, String(message), ...(params as []));
  }
}
