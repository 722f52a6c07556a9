import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, ErrorCode } from './errors';
import { problemOf } from './problem.filter';

/** The bodies the API reads: JSON (`application/json`, `application/*+json`); anything else with a body is 415. */
export const JSON_CONTENT_TYPES: (string | RegExp)[] = ['application/json', /^application\/[\w.-]+\+json$/];

export interface BodyLimits {
  /** Deepest nesting of objects and arrays (the top-level object is depth 1). */
  bodyMaxDepth: number;
  /** Most elements of any one array. */
  bodyMaxArrayLength: number;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

const refused = (detail: string): AppError => new AppError('VALIDATION_FAILED', detail, {}, [{ field: 'body', message: detail }]);

/** Whether the raw JSON text nests deeper than `max`: one pass over the bytes, before JSON.parse pays for it. */
function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The first array longer than `max`, walked with a stack of its own. */
function hasLongArray(value: unknown, max: number): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      if (v.length > max) return true;
      for (const child of v) if (child !== null && typeof child === 'object') stack.push(child);
    } else if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return false;
}

function firstByte(body: Buffer): number | undefined {
  for (const c of body) if (!WHITESPACE.has(c)) return c;
  return undefined;
}

/**
 * The JSON body parser. A body is refused cheaply before anything transforms it: not an object at
 * the top level (every body the API takes is one), nested deeper or holding a longer array than
 * configured (BODY_MAX_DEPTH, BODY_MAX_ARRAY_LENGTH); a charset other than UTF-8 is 415. An empty
 * body is no body.
 */
export function jsonBodyParser(limits: BodyLimits) {
  return (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void): void => {
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2].toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies must be UTF-8'));
    }
    const first = firstByte(body);
    if (first === undefined) return done(null, undefined);
    if (first !== OPEN_BRACE) return done(refused('The request body must be a JSON object'));
    if (nestsDeeperThan(body, limits.bodyMaxDepth)) {
      return done(refused(`The request body nests deeper than ${limits.bodyMaxDepth} levels`));
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return done(new AppError('MALFORMED_REQUEST', 'The request body is not valid JSON'));
    }
    if (hasLongArray(value, limits.bodyMaxArrayLength)) {
      return done(refused(`An array in the request body has more than ${limits.bodyMaxArrayLength} elements`));
    }
    done(null, value);
  };
}

/** Only the JSON parser above reads bodies: Fastify's own (JSON, text/plain) go, so other types are 415. */
export function refuseUnreadableBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
}

const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'The request did not arrive in time'],
  HPE_HEADER_OVERFLOW: ['HEADERS_TOO_LARGE', 'The request headers are too large'],
};

/**
 * Node's own refusals, before any request exists (a timeout, headers too large, a request that is not
 * HTTP): answered with a problem document on the socket, which then closes.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail] = CLIENT_ERRORS[err.code ?? ''] ?? ['MALFORMED_REQUEST', 'The request is not valid HTTP'];
  const problem = new AppError(code, detail);
  const body = JSON.stringify(problemOf(problem));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Whether a handler reads the body (`@Body()` or `@RawBody()`): Nest's parameter metadata says so. */
function readsBody(ctx: ExecutionContext): boolean {
  const params = (Reflect.getMetadata(ROUTE_ARGS_METADATA, ctx.getClass(), ctx.getHandler().name) ?? {}) as Record<string, unknown>;
  return Object.keys(params).some((key) => {
    const type = Number(key.split(':')[0]);
    return type === RouteParamtypes.BODY || type === RouteParamtypes.RAW_BODY;
  });
}

/**
 * A route that takes no body refuses one (400), like an unknown field: a global guard, after the
 * access check (APP_GUARD, applied first) and before the idempotency key or anything else looks at
 * it. An empty object is no body.
 */
@Injectable()
export class BodilessRoutes implements CanActivate {
  private readonly known = new WeakMap<object, boolean>();

  canActivate(ctx: ExecutionContext): boolean {
    const { body } = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
      const handler = ctx.getHandler();
      let reads = this.known.get(handler);
      if (reads === undefined) this.known.set(handler, (reads = readsBody(ctx)));
      if (!reads) throw refused('This route takes no request body');
    }
    return true;
  }
}
