import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId } from '../../common/validation';
import { IsPlainText } from '../../identity/dto/validators';
import { LABEL_KINDS, LabelKind } from '../fraud.types';
import { trim } from './fields';

export const ADMIN_LABELS = ['confirmed_takeover', 'confirmed_fraud'] as const;
export type AdminLabel = (typeof ADMIN_LABELS)[number];

export class CreateLabelDto {
  @ApiProperty({ format: 'uuid', example: '0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b' })
  @IsId()
  userId: string;

  @ApiProperty({ enum: ADMIN_LABELS, description: 'ground truth for backtests' })
  @IsIn(ADMIN_LABELS)
  label: AdminLabel;

  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @Transform(trim)
  @IsPlainText(1, 2000)
  note: string;
}

export class LabelsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  userId?: string;

  @ApiPropertyOptional({ enum: LABEL_KINDS })
  @IsOptional()
  @IsIn(LABEL_KINDS)
  label?: LabelKind;
}
