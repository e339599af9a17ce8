import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { authConfig } from '../../config';
import { PasswordService } from './password.service';
import { User, UserSchema } from './schemas/user.schema';
import { UsersService } from './users.service';

@Module({
  imports: [
    ConfigModule.forFeature(authConfig),
    MongooseModule.forFeature([{ name: User.name, schema: UserSchema }]),
  ],
  providers: [UsersService, PasswordService],
  exports: [UsersService, PasswordService, MongooseModule],
})
export class UsersModule {}
