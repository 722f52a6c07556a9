import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import pino, { DestinationStream, Level, Logger } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Never logged in clear, wherever they appear in a logged object. */
const REDACT = [
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.code',
  '*.secret',
  '*.totp',
  '*.deviceToken',
  '*.challengeId',
];

/** The id of the request being served: every line logged while serving it carries it (`reqId`). */
const currentRequest = new AsyncLocalStorage<string>();

/** The application's one pino logger (JSON lines on stdout, or on `destination` when given: tests). */
export function createAppLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    mixin: () => {
      const reqId = currentRequest.getStore();
      return reqId === undefined ? {} : { reqId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A request id the client sent is kept when it is a plain token, so a caller can follow its own ids. */
const CLIENT_REQUEST_ID = /^[\w-]{1,100}$/;

/** Fastify's `genReqId`: the request's id, before anything can fail (body parsing included). */
export function requestIdOf(raw: { headers: IncomingHttpHeaders }): string {
  const incoming = raw.headers['x-request-id'];
  return typeof incoming === 'string' && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The matched route's template (`/listings/:id`), or null when no controller route matched. */
export function routeTemplate(req: FastifyRequest): string | null {
  return req.routeOptions.url ?? null;
}

/** The level of a request's line: 5xx error, 4xx warn (the client's mistake, worth a look), else info. */
export function requestLogLevel(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** Told of every answered request (the HTTP metrics). */
export type RequestObserver = (method: string, route: string | null, status: number, ms: number) => void;

type LoggedRequest = FastifyRequest & { user?: { id?: string }; logged?: boolean };

/**
 * The first hooks of the application: every answer carries `X-Request-Id` (the id from
 * `requestIdOf`), and when it has been sent, or the client went away first, one compact line is
 * logged: id, method, route template (never the URL, whose query may carry a token), status,
 * milliseconds, user id; `observe` is told the same. The request is served inside its id's
 * context (`currentRequest`; Fastify carries it past the body parser).
 */
export function requestLogHooks(fastify: FastifyInstance, logger: Logger, observe: RequestObserver): void {
  const logging = logger.level !== 'silent';
  // Its fields are all the request line has, none of them a secret: redaction (~10 µs a line) is skipped.
  const lines = logger.child({}, { redact: [] });
  const done = (req: LoggedRequest, status: number, ms: number | null) => {
    if (req.logged) return;
    req.logged = true;
    const route = routeTemplate(req);
    if (ms !== null) observe(req.method, route, status, ms);
    if (!logging) return;
    lines[requestLogLevel(status)](
      {
        reqId: req.id,
        method: req.method,
        route,
        status,
        ms: ms === null ? null : Math.round(ms * 10) / 10,
        userId: req.user?.id ?? null,
        ...(ms === null ? { aborted: true } : {}),
      },
      'request',
    );
  };
  fastify.decorateRequest('logged', false);
  fastify.addHook('onRequest', (req, reply, next) => {
    reply.header('X-Request-Id', req.id);
    currentRequest.run(req.id, next);
  });
  fastify.addHook('onResponse', (req, reply, next) => {
    done(req, reply.statusCode, reply.elapsedTime);
    next();
  });
  fastify.addHook('onRequestAbort', (req, next) => {
    done(req, 499, null); // the client went away before its request was answered
    next();
  });
}
