import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';

@Schema({ timestamps: true, collection: 'users' })
export class User {
  @Prop({ required: true, trim: true })
  username: string;

  /** argon2id hash; never selected unless asked for explicitly. */
  @Prop({ required: true, select: false })
  passwordHash: string;

  /**
   * The bootstrap admin only: the hash of the ADMIN_PASSWORD last applied, so a start with a
   * changed ADMIN_PASSWORD applies it while an unchanged one leaves a password changed since
   * through the API alone (docs/security.md).
   */
  @Prop({ type: String, select: false })
  bootstrapPasswordHash?: string;

  @Prop({ type: [String], default: [] })
  roles: string[];

  @Prop({ type: [String], default: [] })
  groups: string[];

  /**
   * Set when the user is disabled: their sessions are refused by the guard and cannot refresh
   * (issue 11 finding 5), and stay so until it is cleared.
   */
  @Prop({ type: Date, default: null })
  disabledAt: Date | null;

  createdAt: Date;
  updatedAt: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);

// login, reauth, admin lookups by name; also enforces "username taken" (409)
UserSchema.index({ username: 1 }, { unique: true });
