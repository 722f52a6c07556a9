/**
 * A server process for `npm run bench:framework`: BENCH_APP=bazaar serves the application as
 * `npm start` does; BENCH_APP=trivial serves one Nest route, `GET /me`, behind a passport-jwt guard
 * with the same secret and algorithm and no database, on BENCH_PLATFORM (express or fastify).
 */
import 'reflect-metadata';
import { Controller, Get, INestApplication, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/app-config';

@Injectable()
class TrivialJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: createSecretKey(Buffer.from(process.env.JWT_SECRET ?? '')) as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: true,
    });
  }

  validate(payload: { sub: string }): { id: string } {
    return { id: payload.sub };
  }
}

@Controller()
class TrivialController {
  @Get('me')
  @UseGuards(AuthGuard('jwt'))
  me(@Req() req: { user: { id: string } }): { id: string } {
    return { id: req.user.id };
  }
}

@Module({ imports: [PassportModule], controllers: [TrivialController], providers: [TrivialJwtStrategy] })
class TrivialModule {}

async function trivial(platform: string): Promise<INestApplication> {
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  return NestFactory.create(TrivialModule, adapter, { logger: false });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const app =
    process.env.BENCH_APP === 'trivial'
      ? await trivial(process.env.BENCH_PLATFORM ?? 'fastify')
      : await createApp(config, config.databaseUrl!);
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write(`READY ${app.getHttpAdapter().getType()}\n`);
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
