import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AdminSessionsController } from './admin-sessions.controller';
import { AdminSessionsService } from './admin-sessions.service';
import { AdminUsersController } from './admin-users.controller';
import { SessionExportService } from './export/session-export.service';
import { PeerDistributor } from './remote/peer-distributor.service';
import { RemoteSessionsController } from './remote/remote-sessions.controller';
import { ReplayCache } from './remote/replay-cache';
import { SignatureGuard } from './remote/signature.guard';
import { RemoteSignature, RemoteSignatureSchema } from './schemas/remote-signature.schema';
import {
  ValidationGeneration,
  ValidationGenerationSchema,
} from './schemas/validation-generation.schema';

/**
 * Admin session controls, export, user creation, and the signed remote routes peers call.
 * Sessions and users come from the global SessionModule (SessionStore, UsersService); the
 * models registered here are admin's own collections.
 */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ValidationGeneration.name, schema: ValidationGenerationSchema },
      { name: RemoteSignature.name, schema: RemoteSignatureSchema },
    ]),
  ],
  controllers: [AdminSessionsController, AdminUsersController, RemoteSessionsController],
  providers: [
    AdminSessionsService,
    SessionExportService,
    PeerDistributor,
    ReplayCache,
    SignatureGuard,
  ],
})
export class AdminModule {}
