import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CreatedRangeQuery } from '../../common/admin-lists';
import { EXAMPLE_ID, EXAMPLE_TIME, PageOf } from '../../common/api-docs';
import { Role, ROLES } from '../../common/auth.decorators';
import { AccountStateDto, UserDto } from '../../identity/dto/views';

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
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
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

export class AdminUserLinksDto {
  @ApiProperty({ description: "POST: place the admins' hold", example: `/admin/users/${EXAMPLE_ID}/hold` }) hold: string;
  @ApiProperty({ description: 'POST: release holds', example: `/admin/users/${EXAMPLE_ID}/release` }) release: string;
  @ApiProperty({ description: 'POST: change roles', example: `/admin/users/${EXAMPLE_ID}/roles` }) roles: string;
  @ApiProperty({ description: 'GET: their orders', example: `/admin/orders?userId=${EXAMPLE_ID}` }) orders: string;
  @ApiProperty({ description: 'GET: their token purchases', example: `/admin/token-purchases?userId=${EXAMPLE_ID}` })
  tokenPurchases: string;
  @ApiProperty({ description: 'GET: their fraud decisions', example: `/admin/fraud/decisions?userId=${EXAMPLE_ID}` })
  fraudDecisions: string;
  @ApiProperty({ description: "GET: the audit log's entries about them", example: `/admin/audit-log?subjectId=${EXAMPLE_ID}` })
  auditLog: string;
}

export class AdminUserDto extends UserDto {
  @ApiProperty({ description: 'an account hold is active', example: false }) onHold: boolean;
  @ApiProperty({ type: AdminUserLinksDto }) links: AdminUserLinksDto;
}

export const AdminUserPage = PageOf(AdminUserDto);

export class AdminUsersQuery extends CreatedRangeQuery {
  @ApiPropertyOptional({ maxLength: 254, description: 'email prefix, any case', example: 'ada@' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ enum: ROLES, example: 'creator' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ type: Boolean, description: 'true: users with an active account hold; false: without', example: true })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  hold?: boolean;
}
