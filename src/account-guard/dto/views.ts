import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { AccountStateDto } from '../../identity/dto/views';

export class AccountHoldDto {
  @ApiProperty({ type: String, nullable: true, description: "null: the admins' hold; else the system hold's reference", example: null })
  reference: string | null;
  @ApiProperty({ example: 'chargeback on a token purchase' }) reason: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: placed by the system', example: EXAMPLE_ID })
  placedBy: string | null;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) placedAt: string;
}

/** The account's state as admins see it, with its active holds. */
export class AdminAccountStateDto extends AccountStateDto {
  @ApiProperty({ type: [AccountHoldDto], description: 'the active account holds' }) holds: AccountHoldDto[];
}

export class SecurityEventDto {
  @ApiProperty({ example: '41' }) id: string;
  @ApiProperty({ example: 'login_new_device', description: 'e.g. account_locked, password_changed, account_frozen' }) kind: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) occurredAt: string;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ip: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "the event's details", example: { sessionId: EXAMPLE_ID } })
  data: Record<string, unknown>;
}

export const SecurityEventPage = PageOf(SecurityEventDto);

export class TotpEnrollmentDto {
  @ApiProperty({ description: 'base32 secret for the authenticator app', example: 'L57LTVLE2MUG7Z6YND7DTE2VQLRNMCAT' }) secret: string;
  @ApiProperty({ example: 'otpauth://totp/Bazaar:ada%40example.com?secret=L57LTVLE2MUG7Z6YND7DTE2VQLRNMCAT&issuer=Bazaar' })
  otpauthUrl: string;
}
