import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { EXAMPLE_ID, EXAMPLE_TIME } from '../common/api-docs';

export class AdvanceClockDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: 10 * 365 * 24 * 3600,
    description: 'seconds to move business time forward',
    example: 86400,
  })
  @IsInt()
  @Min(0)
  @Max(10 * 365 * 24 * 3600)
  advanceSeconds: number;
}

export class ClockDto {
  @ApiProperty({ format: 'date-time', description: "the server's business time", example: EXAMPLE_TIME }) now: string;
}

export class JobsRunDto {
  @ApiProperty({ type: [String], description: 'the periodic jobs that ran', example: ['ledger.expire-holds'] }) periodic: string[];
  @ApiProperty({ type: 'integer', description: 'queued jobs processed', example: 1 }) processed: number;
  @ApiProperty({ type: 'integer', example: 0 }) failed: number;
  @ApiProperty({ type: 'integer', description: 'outbox messages delivered', example: 3 }) outboxDelivered: number;
}

export class MailDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) to: string;
  @ApiProperty({ example: 'Verify your email address' }) subject: string;
  @ApiProperty({ example: 'Open this link to verify your address: …' }) text: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "the message's facts (kind, token, code…)",
    example: { kind: 'identity.verify_email', token: 'dCw1AZr9BA9QQ_BGrxSLYhNhh0ECwyOE' },
  })
  data: Record<string, unknown>;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) sentAt: string;
}

export class MailboxDto {
  @ApiProperty({ type: [MailDto] }) items: MailDto[];
}
