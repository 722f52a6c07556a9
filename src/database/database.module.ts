import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from './data-source';
import { TransactionRunner } from './transaction-runner';

/**
 * Prepared statements (`preparedRows`) and trigger functions are written so that their best plan does
 * not depend on their values: plan them once per connection instead of re-planning on every call, as
 * PostgreSQL otherwise does whenever it guesses a custom plan to be cheaper. One-off statements (all the
 * others, searches among them) are planned with their values either way.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(url: string, poolSize: number): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(url, { extra: { max: poolSize, options: GENERIC_PLANS } }),
          autoLoadEntities: true,
          migrationsRun: false,
        }),
      ],
      providers: [TransactionRunner],
      exports: [TransactionRunner],
    };
  }
}
