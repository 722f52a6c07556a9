import { IsId } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ADMIN_ACCOUNT_HOLD, SYSTEM_ACCOUNT_HOLD_REFERENCE } from '../account-hold-references';
import { IsPlainText } from '../../identity/dto/validators';

const SIX_DIGITS = /^\d{6}$/;

export class StepUpDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  challengeId: string;

  @ApiProperty({ example: '123456', description: 'TOTP or emailed code' })
  @IsString()
  @Matches(SIX_DIGITS, { message: 'code must be 6 digits' })
  code: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(SIX_DIGITS, { message: 'code must be 6 digits' })
  code: string;
}

export class AccountHoldDto {
  @ApiProperty({ minLength: 1, maxLength: 1000 })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsPlainText(1, 1000)
  reason: string;
}

export class ReleaseAccountHoldDto extends AccountHoldDto {
  @ApiPropertyOptional({
    example: 'dispute:dp_123',
    description: `Release only this hold: \`${ADMIN_ACCOUNT_HOLD}\` for the admins' hold, or a system hold's reference. Without it every active hold is released.`,
  })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(`^${ADMIN_ACCOUNT_HOLD}$|${SYSTEM_ACCOUNT_HOLD_REFERENCE.source}`), {
    message: `reference must be '${ADMIN_ACCOUNT_HOLD}' or look like <kind>:<id>`,
  })
  reference?: string;
}
