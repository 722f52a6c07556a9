import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { BootQuietLogger } from './common/boot-logger';
import { BodilessRoutes, clientErrorHandler, JSON_CONTENT_TYPES, jsonBodyParser, refuseUnreadableBodies } from './common/http-input';
import { frameworkErrorHandler } from './common/problem.filter';
import { createAppLogger, requestIdOf, requestLogHooks } from './common/request-log';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { observeHttpRequest } from './health/http-metrics';
import { IP_COUNTRY_HEADER_SETTING } from './identity/request-context';

export interface AppOptions {
  /** Where the JSON log lines go (default stdout); the log tests capture them. */
  logDestination?: DestinationStream;
}

/** How often Node looks for requests past REQUEST_TIMEOUT_SECONDS (its default, 30 s, would let them run on that long). */
const TIMEOUT_CHECK_MS = 1000;

/**
 * TRUST_PROXY for Fastify: a hop count trusts that many hops from the socket, as Express did (Fastify
 * itself takes a number as "trust no hop").
 */
function trustProxyOf(trust: AppConfig['trustProxy']): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/**
 * helmet's headers (its defaults but the Content-Security-Policy, which only HTML would need), taken
 * once: they are the same for every response, and helmet builds its middleware anew per request.
 */
function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const collect = { setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value), removeHeader: () => undefined };
  helmet({ contentSecurityPolicy: false })({} as IncomingMessage, collect as unknown as ServerResponse, () => undefined);
  return headers;
}

/** Builds the fully configured HTTP application (used by main and by the e2e tests alike). */
export async function createApp(config: AppConfig, databaseUrl: string, opts: AppOptions = {}): Promise<INestApplication> {
  const logger = createAppLogger(config, opts.logDestination);
  const requestTimeoutMs = config.http.requestTimeoutSeconds * 1000;
  const adapter = new FastifyAdapter({
    trustProxy: trustProxyOf(config.trustProxy),
    bodyLimit: config.bodyLimitBytes,
    // The whole request, its body included, must arrive within this (408 after); headers sooner.
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    genReqId: requestIdOf,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    bufferLogs: true,
    bodyParser: false,
    rawBody: true,
  });
  app.useLogger(new BootQuietLogger(logger));
  const fastify = app.getHttpAdapter().getInstance();
  // First, so that every answer (a malformed body's and a 413 included) has its request id and its log line.
  requestLogHooks(fastify, logger, observeHttpRequest);
  fastify.decorate(IP_COUNTRY_HEADER_SETTING, config.fraud.ipCountryHeader);
  const security = securityHeaders();
  fastify.addHook('onRequest', (_req, reply, next) => {
    reply.headers(security);
    next();
  });
  refuseUnreadableBodies(fastify);
  for (const type of JSON_CONTENT_TYPES) app.useBodyParser(type, { bodyLimit: config.bodyLimitBytes }, jsonBodyParser(config.http));
  app.useGlobalGuards(new BodilessRoutes());
  app.useGlobalPipes(createValidationPipe());

  const docs = new DocumentBuilder()
    .setTitle('Bazaar API')
    .setDescription('Virtual-goods marketplace: tokens, ledger, catalog, resellers, fraud review')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs), { jsonDocumentUrl: 'docs-json' });
  return app;
}
