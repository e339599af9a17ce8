import { Module } from '@nestjs/common';
import { AccountController } from './account.controller';

/** The `/account` devices page of this app (it uses the global SessionModule's transport). */
@Module({ controllers: [AccountController] })
export class AccountModule {}
