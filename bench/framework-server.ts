/**
 * A server process for `npm run bench:framework`: BENCH_APP=bazaar serves the application as
 * `npm start` does; BENCH_APP=trivial serves one Nest route, `GET /me`, behind a guard that verifies
 * the bearer token as Bazaar's access guard does (JwtService, the same secret as a KeyObject and
 * algorithm), with no database, on Fastify (Express: from a checkout built
 * before the move, BENCH_BASELINE_DIR of bench:framework, which also takes BENCH_PLATFORM=express).
 */
import 'reflect-metadata';
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  INestApplication,
  Injectable,
  Module,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createSecretKey } from 'node:crypto';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/app-config';

@Injectable()
class TrivialJwtGuard implements CanActivate {
  constructor(private readonly jwt: JwtService) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<{ headers: { authorization?: string }; user?: { id: string } }>();
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new UnauthorizedException();
    try {
      req.user = { id: this.jwt.verify<{ sub: string }>(token, { ignoreExpiration: true }).sub };
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }
}

@Controller()
class TrivialController {
  @Get('me')
  @UseGuards(TrivialJwtGuard)
  me(@Req() req: { user: { id: string } }): { id: string } {
    return { id: req.user.id };
  }
}

@Module({
  imports: [
    JwtModule.register({
      secret: createSecretKey(Buffer.from(process.env.JWT_SECRET ?? '')) as unknown as Buffer,
      verifyOptions: { algorithms: ['HS256'] },
    }),
  ],
  controllers: [TrivialController],
  providers: [TrivialJwtGuard],
})
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
