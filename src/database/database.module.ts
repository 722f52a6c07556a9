import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AfterCommitSubscriber } from './after-commit';
import { dataSourceOptions } from './data-source';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(url: string, poolSize: number): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          // Pipeline mode (a documented pg option): a query may be written while the one before it is
          // still running. Awaited one by one, queries behave exactly as without it;
          // TransactionRunner.run uses it to send BEGIN together with a transaction's first statement.
          ...dataSourceOptions(url, { extra: { max: poolSize, pipeline: true }, subscribers: [AfterCommitSubscriber] }),
          autoLoadEntities: true,
          migrationsRun: false,
        }),
      ],
      providers: [TransactionRunner],
      exports: [TransactionRunner],
    };
  }
}
