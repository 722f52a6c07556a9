import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsPlainText } from '../../identity/dto/validators';
import { Given, trim } from './fields';

export class AddListEntryDto {
  @ApiProperty({
    maxLength: 320,
    description:
      'email: an address; email_domain: a domain; ip: an address; ip_cidr: a network (10.1.0.0/16); device: a device id; card_fingerprint: a Stripe card fingerprint; user: a user id',
    example: '203.0.113.7',
  })
  @Transform(trim)
  @IsString()
  @Length(1, 320)
  value: string;

  @ApiProperty({ minLength: 1, maxLength: 1000 })
  @Transform(trim)
  @IsPlainText(1, 1000)
  reason: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'in the future; the entry stops matching then' })
  @Given()
  @IsISO8601({ strict: true, strictSeparator: true })
  expiresAt?: string;
}

export class ListEntriesQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'removed and expired entries too', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeExpired?: boolean;
}
