import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { type AuthUser, CurrentUser, RequireRecentAuth, Roles } from '../sessions';
import { UsersService } from '../users/users.service';
import { AdminUsersService } from './admin-users.service';
import {
  EndedResultDto,
  ListUsersQuery,
  ResetPasswordDto,
  UpdateUserDto,
  UserListItemDto,
  UsernameParams,
} from './dto/admin-users.dto';
import { CreatedUserDto, CreateUserDto } from './dto/create-user.dto';

/**
 * Users, for admins. Every route that changes a user needs a recent password proof of the
 * admin (`@RequireRecentAuth()`, ADMIN_REAUTH_MAX_AGE_SECONDS): a stolen admin token alone
 * cannot mint admins, reset passwords or lock people out.
 */
@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(ErrorCode.FORBIDDEN)
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly admin: AdminUsersService,
  ) {}

  @Post()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.CONFLICT, ErrorCode.REAUTH_REQUIRED)
  create(@Body() body: CreateUserDto): Promise<CreatedUserDto> {
    return this.users.create(body);
  }

  @Get()
  @ApiOperation({
    summary: 'List users by name, a page at a time',
    description: 'The next page: `after` = the last username of this one.',
  })
  @ApiOkResponse({ type: [UserListItemDto] })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  list(@Query() query: ListUsersQuery): Promise<UserListItemDto[]> {
    return this.admin.list(query.limit, query.after);
  }

  @Put(':username/password')
  @RequireRecentAuth()
  @ApiOperation({
    summary: "Set a user's password; every session of theirs ends (password_changed)",
  })
  @ApiOkResponse({ type: EndedResultDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND, ErrorCode.REAUTH_REQUIRED)
  resetPassword(
    @Param() params: UsernameParams,
    @Body() body: ResetPasswordDto,
  ): Promise<EndedResultDto> {
    return this.admin.resetPassword(params.username, body.newPassword);
  }

  @Patch(':username')
  @RequireRecentAuth()
  @ApiOperation({
    summary: 'Disable or enable a user (an extension of the contract)',
    description:
      'disabled: true ends every session of the user (endReason admin) and refuses their sign-in ' +
      'with INVALID_CREDENTIALS until enabled again. Not on oneself (409).',
  })
  @ApiOkResponse({ type: UserListItemDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.NOT_FOUND,
    ErrorCode.CONFLICT,
    ErrorCode.REAUTH_REQUIRED,
  )
  update(
    @CurrentUser() caller: AuthUser,
    @Param() params: UsernameParams,
    @Body() body: UpdateUserDto,
  ): Promise<UserListItemDto> {
    return this.admin.setDisabled(caller, params.username, body.disabled);
  }

  @Delete(':username')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireRecentAuth()
  @ApiOperation({
    summary: 'Remove a user; every session of theirs ends',
    description: 'Not oneself (409): the last admin cannot remove themself.',
  })
  @ApiNoContentResponse()
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.NOT_FOUND,
    ErrorCode.CONFLICT,
    ErrorCode.REAUTH_REQUIRED,
  )
  async remove(@CurrentUser() caller: AuthUser, @Param() params: UsernameParams): Promise<void> {
    await this.admin.remove(caller, params.username);
  }
}
