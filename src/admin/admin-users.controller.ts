import { Body, Controller, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../sessions/decorators/roles.decorator';
import { UsersService } from '../users/users.service';
import { CreatedUserDto, CreateUserDto } from './dto/create-user.dto';

@ApiTags('admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not an admin' })
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiConflictResponse({ description: 'CONFLICT: the username is taken' })
  create(@Body() body: CreateUserDto): Promise<CreatedUserDto> {
    return this.users.create(body);
  }
}
