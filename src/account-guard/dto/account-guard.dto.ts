import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, IsUUID, Matches } from 'class-validator';
import { IsPlainText } from '../../identity/dto/validators';

const SIX_DIGITS = /^\d{6}$/;

export class StepUpDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  challengeId: string;

  @ApiProperty({ example: '123456', description: 'TOTP or emailed code' })
  @IsString() @Matches(SIX_DIGITS, { message: 'code must be 6 digits' })
  code: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456' })
  @IsString() @Matches(SIX_DIGITS, { message: 'code must be 6 digits' })
  code: string;
}

export class HoldDto {
  @ApiProperty({ minLength: 1, maxLength: 1000 })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsPlainText(1, 1000)
  reason: string;
}
