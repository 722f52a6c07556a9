import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { BootQuietLogger } from './common/boot-logger';
import { createAppLogger, requestLogMiddleware } from './common/request-log';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { IP_COUNTRY_HEADER_SETTING } from './identity/request-context';

export interface AppOptions {
  /** Where the JSON log lines go (default stdout); the log tests capture them. */
  logDestination?: DestinationStream;
}

/** Builds the fully configured HTTP application (used by main and by the e2e tests alike). */
export async function createApp(config: AppConfig, databaseUrl: string, opts: AppOptions = {}): Promise<INestApplication> {
  const logger = createAppLogger(config, opts.logDestination);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl, logger), {
    bufferLogs: true,
    rawBody: true,
    bodyParser: false,
  });
  app.useLogger(new BootQuietLogger(app.get(Logger)));
  // First, so that every answer (a malformed body's and a 413 included) has its request id and its log line.
  app.use(requestLogMiddleware(logger));
  app.set('trust proxy', config.trustProxy);
  app.set(IP_COUNTRY_HEADER_SETTING, config.fraud.ipCountryHeader);
  app.set('x-powered-by', false);
  app.use(helmet({ contentSecurityPolicy: false }));
  app.useBodyParser('json', { limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
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
