import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { Roles } from '../sessions';
import { UsersService } from '../users/users.service';
import { CreatedUserDto, CreateUserDto } from './dto/create-user.dto';

@ApiTags('admin')
@ApiBearerAuth()
@ApiErrors(ErrorCode.FORBIDDEN)
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.CONFLICT)
  create(@Body() body: CreateUserDto): Promise<CreatedUserDto> {
    return this.users.create(body);
  }
}
