import { Body, Controller, Delete, Get, HttpCode, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { AddListEntryDto, ListEntriesQuery } from './dto/lists.dto';
import { FraudErrors } from './fraud.errors';
import { LIST_TYPES, ListType } from './fraud.types';
import { ListsService } from './lists.service';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { ListEntryDto, ListEntryPage } from './dto/views';

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
  @ApiOperation({ summary: "A fraud list's entries (active ones unless includeExpired)" })
  @ApiOkResponse({ type: ListEntryPage })
  @ApiProblems(['VALIDATION_FAILED', 'also an unknown list type'], ...ADMIN)
  list(@Param('type', listType) type: ListType, @Query() q: ListEntriesQuery) {
    return this.lists.list(type, q);
  }

  @Post()
  @ApiOperation({ summary: 'Add an entry to a fraud list' })
  @ApiCreatedResponse({ type: ListEntryDto })
  @ApiProblems(
    ['VALIDATION_FAILED', 'also a value not of the list type, or an unknown list type'],
    ...ADMIN,
    ['NOT_FOUND', 'user list: no such user'],
    ['CONFLICT', 'the value is listed already'],
  )
  add(@CurrentUser() admin: AuthUser, @Param('type', listType) type: ListType, @Body() dto: AddListEntryDto) {
    return this.lists.add(admin.id, type, dto);
  }

  @Delete(':entryId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an entry from a fraud list (kept, marked removed)' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  async remove(@CurrentUser() admin: AuthUser, @Param('type', listType) type: ListType, @IdParam('entryId') entryId: string) {
    await this.lists.remove(admin.id, type, entryId);
  }
}
