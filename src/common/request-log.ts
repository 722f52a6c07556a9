import type { NextFunction, Request, Response } from 'express';
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

/** The application's one pino logger (JSON lines on stdout, or on `destination` when given: tests). */
export function createAppLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** A request id the client sent is kept when it is a plain token, so a caller can follow its own ids. */
const CLIENT_REQUEST_ID = /^[\w-]{1,100}$/;

type LoggedRequest = Request & { id?: string; user?: { id?: string } };

/**
 * The matched route's template (`/listings/:id`), or null when no controller route matched: the
 * wildcard Nest mounts middleware on (`{/*splat}`, `*path`) is no route of the API.
 */
export function routeTemplate(req: Request): string | null {
  const path = req.route?.path as string | undefined;
  return path && !path.includes('*') ? `${req.baseUrl}${path}` : null;
}

/** The level of a request's line: 5xx error, 4xx warn (the client's mistake, worth a look), else info. */
export function requestLogLevel(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/**
 * The first middleware of the application: gives every request its id (`X-Request-Id` on the response,
 * `req.id` for the problem filter and the loggers) before anything can fail — body parsing included —
 * and logs one compact line per request when the response ends: id, method, route template (never
 * the URL, whose query may carry a token), status, milliseconds, user id.
 */
export function requestLogMiddleware(logger: Logger) {
  const logging = logger.level !== 'silent';
  return (req: LoggedRequest, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (logging) {
      const start = performance.now();
      res.once('close', () => {
        const status = res.statusCode;
        logger[requestLogLevel(status)](
          {
            reqId: id,
            method: req.method,
            route: routeTemplate(req),
            status,
            ms: Math.round((performance.now() - start) * 10) / 10,
            userId: req.user?.id ?? null,
            ...(res.writableFinished ? {} : { aborted: true }),
          },
          'request',
        );
      });
    }
    next();
  };
}
