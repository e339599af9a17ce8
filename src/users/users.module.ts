import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { PasswordService } from './password.service';
import { User, UserSchema } from './schemas/user.schema';
import { UsersService } from './users.service';

/** Users and their passwords. Its settings (hash cost, initial admin) come from SessionModule's options. */
@Module({
  imports: [MongooseModule.forFeature([{ name: User.name, schema: UserSchema }])],
  providers: [UsersService, PasswordService],
  exports: [UsersService, PasswordService, MongooseModule],
})
export class UsersModule {}
