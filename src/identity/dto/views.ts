import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Role, ROLES } from '../../common/auth.decorators';
import { EXAMPLE_ID, EXAMPLE_TIME } from '../../common/api-docs';

/** The OpenAPI schemas of identity's answers (userView, the session pair, sessions). */
export class RegisteredUserDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ example: 'Ada' }) displayName: string;
  @ApiProperty({ enum: ROLES, isArray: true, example: ['buyer'] }) roles: Role[];
}

export class UserDto extends RegisteredUserDto {
  @ApiProperty({ example: false }) emailVerified: boolean;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT for `Authorization: Bearer`', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi...' })
  accessToken: string;
  @ApiProperty({ description: 'single use: POST /auth/refresh rotates it', example: 'dCw1AZr9BA9QQ_BGrxSLYhNhh0ECwyOE-uYibajdWNE' })
  refreshToken: string;
  @ApiProperty({ type: 'integer', description: 'seconds the access token lives', example: 900 }) expiresIn: number;
}

export class LoginResultDto extends TokenPairDto {
  @ApiPropertyOptional({
    description: 'send it back as `deviceToken` in later logins',
    example: 'Ra8zZ9Neo4iwOmcJGZt3kSjmTIxV11aS6__-KIjP4-0',
  })
  deviceToken?: string;
  @ApiProperty({ type: UserDto }) user: UserDto;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID }) id: string;
  @ApiProperty({ description: 'the session of this request', example: true }) current: boolean;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) createdAt: string;
  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME }) lastUsedAt: string;
  @ApiProperty({ format: 'date-time', example: '2025-12-20T10:15:30.000Z' }) expiresAt: string;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ip: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0' }) userAgent: string | null;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto], description: 'the live sessions, all of them (no paging)' }) items: SessionDto[];
}

export class AccountStateDto {
  @ApiProperty({ description: 'an account hold is active', example: false }) onHold: boolean;
  @ApiProperty({ example: false }) frozen: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'a requested unfreeze takes effect then', example: null })
  unfreezeAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) coolingUntil: string | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'e.g. new_device, password_reset' }) coolingReason:
    string | null;
  @ApiProperty({ example: false }) twoFactorEnabled: boolean;
}

/** GET /me: the user, with the flags other modules add (`security` from the account guard). */
export class ProfileDto extends UserDto {
  @ApiProperty({ type: AccountStateDto }) security: AccountStateDto;
}
