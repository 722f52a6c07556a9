import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsOptional } from 'class-validator';
import { Role, ROLES } from '../../common/auth.decorators';

/** An optional list of distinct roles. Listed bottom-up, the order stacked decorators apply in. */
const RoleList = () =>
  applyDecorators(
    IsIn(ROLES, { each: true }),
    ArrayUnique(),
    ArrayMaxSize(4),
    IsArray(),
    IsOptional(),
    ApiPropertyOptional({ enum: ROLES, isArray: true }),
  );

export class ChangeRolesDto {
  @RoleList()
  add?: Role[];

  @RoleList()
  remove?: Role[];
}
