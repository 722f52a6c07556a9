/**
 * A server process for `npm run bench:framework`: BENCH_APP=bazaar serves the application as
 * `npm start` does; BENCH_APP=trivial serves one Nest route, `GET /me`, behind a passport-jwt guard
 * with the same secret and algorithm and no database, on Fastify (Express: from a checkout built
 * before the move, BENCH_BASELINE_DIR of bench:framework, which also takes BENCH_PLATFORM=express).
 */
import 'reflect-metadata';
import { Controller, Get, INestApplication, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
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

function trivial(): Promise<INestApplication> {
  return NestFactory.create(TrivialModule, new FastifyAdapter(), { logger: false });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const app = process.env.BENCH_APP === 'trivial' ? await trivial() : await createApp(config, config.databaseUrl!);
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write(`READY ${app.getHttpAdapter().getType()}\n`);
  process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
