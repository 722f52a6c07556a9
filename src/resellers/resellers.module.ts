import { Module } from '@nestjs/common';
import { ResellersRepository } from './resellers.repository';

/** The reseller program (docs/resellers.md): applications and vetting, bonds, wholesale stock, escrowed orders, scorecards. */
@Module({
  providers: [ResellersRepository],
})
export class ResellersModule {}
