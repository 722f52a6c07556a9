import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, FieldError } from './errors';
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
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  502: 'UPSTREAM_UNAVAILABLE',
  503: 'SERVICE_UNAVAILABLE',
};

/** Maps anything thrown into an AppError; unknown errors become a 500 that reveals nothing. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // body-parser errors carry `type` and `status`; the Express adapter wraps them in an HttpException.
  const bp = (err instanceof HttpException ? err.cause : err) as { type?: string; status?: number; expose?: boolean } | null;
  if (bp instanceof URIError) return new AppError('MALFORMED_REQUEST', 'The request URL is not validly encoded');
  if (bp && typeof bp.type === 'string' && typeof bp.status === 'number' && bp.status < 500) {
    if (bp.type === 'entity.parse.failed') return new AppError('MALFORMED_REQUEST', 'The request body is not valid JSON');
    if (bp.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    if (bp.type === 'encoding.unsupported' || bp.type === 'charset.unsupported') {
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
    }
    return new AppError('MALFORMED_REQUEST', 'The request body could not be read');
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code && status < 500) {
      const detail = status === 404 ? 'No such route' : err.message;
      return new AppError(code, detail);
    }
  }
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

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const err = toAppError(exception);
    const requestId = typeof req.id === 'string' ? req.id : String(req.id ?? '');
    if (err.code === 'IDEMPOTENCY_IN_PROGRESS' || err.code === 'IDEMPOTENCY_KEY_REUSED')
      BusinessMetrics.idempotencyConflicts.inc({ code: err.code });
    if (err.status >= 500) {
      this.logger.error({ err: exception, requestId, path: req.path }, 'request failed');
    }
    if (res.headersSent) return;
    if (typeof err.extra.retryAfter === 'number') res.setHeader('Retry-After', String(err.extra.retryAfter));
    res
      .status(err.status)
      .type('application/problem+json')
      .send(JSON.stringify(problemOf(err, requestId, req.originalUrl?.split('?')[0])));
  }
}
