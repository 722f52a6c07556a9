import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { IP_COUNTRY_HEADER_SETTING } from './identity/request-context';

/** Builds the fully configured HTTP application (used by main and by the e2e tests alike). */
export async function createApp(config: AppConfig, databaseUrl: string, logStream?: DestinationStream): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl, logStream), {
    bufferLogs: true,
    rawBody: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.trustProxy);
  app.set(IP_COUNTRY_HEADER_SETTING, config.fraud.ipCountryHeader);
  app.set('x-powered-by', false);
  app.use(helmet({ contentSecurityPolicy: false }));
  app.useBodyParser('json', { limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const docs = new DocumentBuilder()
    .setTitle('Bazaar API')
    .setDescription('Virtual-goods marketplace: tokens, ledger, catalog, resellers, fraud review')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs), { jsonDocumentUrl: 'docs-json' });
  return app;
}
