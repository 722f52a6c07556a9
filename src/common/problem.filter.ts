import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../database/pg-clients';
import { AppError, databaseUnavailable, ErrorCode, FieldError } from './errors';
import { BusinessMetrics } from './metrics';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  502: 'UPSTREAM_UNAVAILABLE',
  503: 'SERVICE_UNAVAILABLE',
};

/** Fastify's own refusals (content-type parsing, the URL), by their error code. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['MALFORMED_REQUEST', 'The request body does not match its Content-Length'],
  FST_ERR_BAD_URL: ['MALFORMED_REQUEST', 'The request URL is not validly encoded'],
  FST_ERR_MAX_PARAM_LENGTH: ['URI_TOO_LONG', 'A path segment of the request URL is too long'],
  FST_ERR_ASYNC_CONSTRAINT: ['MALFORMED_REQUEST', 'The request could not be routed'],
};

/** Maps anything thrown into an AppError; unknown errors become a 500 that reveals nothing. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Fastify's errors carry a `code`; the adapter wraps those under 500 in an HttpException.
  const cause = (err instanceof HttpException ? err.cause : err) as { code?: unknown } | null;
  const known = typeof cause?.code === 'string' ? FASTIFY_ERRORS[cause.code] : undefined;
  if (known) return new AppError(known[0], known[1]);
  // A lone UTF-16 surrogate (JSON's "\ud800") that a validator tried to URI-encode.
  if (cause instanceof URIError) return new AppError('MALFORMED_REQUEST', 'The request holds text that is not validly encoded');
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code && status < 500) {
      const detail = status === 404 ? 'No such route' : err.message;
      return new AppError(code, detail);
    }
  }
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  return new AppError('INTERNAL', 'An unexpected error occurred');
}

export function problemOf(err: AppError, requestId?: string, instance?: string): ProblemDocument {
  return {
    ...err.extra,
    type: `https://bazaar.dev/problems/${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    code: err.code,
    detail: err.detail,
    instance,
    requestId,
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

/** Sends `err` as problem+json (with its Retry-After, and Connection: close after a 413). */
function sendProblem(err: AppError, req: FastifyRequest, res: FastifyReply): void {
  if (typeof err.extra.retryAfter === 'number') res.header('Retry-After', String(err.extra.retryAfter));
  // The rest of an over-limit body is never read: the connection goes with the answer.
  if (err.status === 413) res.header('Connection', 'close');
  res
    .code(err.status)
    .type('application/problem+json')
    .send(JSON.stringify(problemOf(err, req.id, req.url.split('?')[0])));
}

/** Fastify's `frameworkErrors`: the router's own refusals (a badly encoded URL, an over-long path segment) before any route runs. */
export function frameworkErrorHandler(error: Error, req: FastifyRequest, res: FastifyReply): void {
  res.header('X-Request-Id', req.id);
  sendProblem(toAppError(error), req, res);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const res = ctx.getResponse<FastifyReply>();
    const err = toAppError(exception);
    const requestId = req.id;
    const path = req.url.split('?')[0];
    if (err.code === 'IDEMPOTENCY_IN_PROGRESS' || err.code === 'IDEMPOTENCY_KEY_REUSED')
      BusinessMetrics.idempotencyConflicts.inc({ code: err.code });
    if (err.status >= 500) {
      this.logger.error({ err: exception, requestId, path }, 'request failed');
    }
    if (res.sent) return;
    sendProblem(err, req, res);
  }
}
