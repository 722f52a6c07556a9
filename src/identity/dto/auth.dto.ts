import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsAcceptablePassword, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS } from '../passwords/password.policy';
import { IsPlainText, OPAQUE_TOKEN } from './validators';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN_CHARS, maxLength: PASSWORD_MAX_CHARS, description: 'Not a common password' })
  @IsAcceptablePassword()
  password: string;

  @ApiProperty({ example: 'Ada', minLength: 1, maxLength: 100 })
  @Transform(trim)
  @IsPlainText(1, 100)
  displayName: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 1024)
  password: string;

  @ApiPropertyOptional({ description: 'The deviceToken an earlier login returned' })
  @IsOptional()
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'deviceToken is not valid' })
  deviceToken?: string;
}

export class RefreshDto {
  @ApiProperty({ example: 'dCw1AZr9BA9QQ_BGrxSLYhNhh0ECwyOE-uYibajdWNE' })
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'refreshToken is not valid' })
  refreshToken: string;
}

export class ReauthDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  password?: string;

  @ApiPropertyOptional({ example: '123456' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{6}$/, { message: 'totp must be a 6-digit code' })
  totp?: string;
}

export class ChangePasswordDto {
  @ApiProperty({ example: 'the current one' })
  @IsString()
  @Length(1, 1024)
  currentPassword: string;

  @ApiProperty({ minLength: PASSWORD_MIN_CHARS, maxLength: PASSWORD_MAX_CHARS })
  @IsAcceptablePassword()
  newPassword: string;
}

export class ResetRequestDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email: string;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'from the reset email', example: 'dCw1AZr9BA9QQ_BGrxSLYhNhh0ECwyOE-uYibajdWNE' })
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'token is not valid' })
  token: string;

  @ApiProperty({ minLength: PASSWORD_MIN_CHARS, maxLength: PASSWORD_MAX_CHARS })
  @IsAcceptablePassword()
  newPassword: string;
}

export class VerifyEmailDto {
  @ApiProperty({ description: 'from the verification email', example: 'dCw1AZr9BA9QQ_BGrxSLYhNhh0ECwyOE-uYibajdWNE' })
  @IsString()
  @Matches(OPAQUE_TOKEN, { message: 'token is not valid' })
  token: string;
}

export class ChangeEmailDto {
  @ApiProperty({ example: 'ada.new@example.com' })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email: string;
}
