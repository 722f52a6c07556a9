import { Body, Controller, Delete, Get, HttpCode, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { idPipe } from '../common/id.pipe';
import { AddListEntryDto, ListEntriesQuery } from './dto/lists.dto';
import { FraudErrors } from './fraud.errors';
import { LIST_TYPES, ListType } from './fraud.types';
import { ListsService } from './lists.service';

const listType: PipeTransform<string, ListType> = {
  transform: (value) => {
    if (!(LIST_TYPES as readonly string[]).includes(value)) throw FraudErrors.unknownListType(value);
    return value as ListType;
  },
};

@ApiTags('admin')
@ApiBearerAuth()
@ApiParam({ name: 'type', enum: LIST_TYPES })
@Controller('admin/fraud/lists/:type')
@Roles('admin')
export class AdminFraudListsController {
  constructor(private readonly lists: ListsService) {}

  @Get()
  list(@Param('type', listType) type: ListType, @Query() q: ListEntriesQuery) {
    return this.lists.list(type, q);
  }

  @Post()
  add(@CurrentUser() admin: AuthUser, @Param('type', listType) type: ListType, @Body() dto: AddListEntryDto) {
    return this.lists.add(admin.id, type, dto);
  }

  @Delete(':entryId')
  @HttpCode(204)
  async remove(
    @CurrentUser() admin: AuthUser,
    @Param('type', listType) type: ListType,
    @Param('entryId', idPipe('entryId')) entryId: string,
  ) {
    await this.lists.remove(admin.id, type, entryId);
  }
}
