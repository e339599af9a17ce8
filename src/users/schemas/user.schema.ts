import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';

@Schema({ timestamps: true, collection: 'users' })
export class User {
  @Prop({ required: true, trim: true })
  username: string;

  /** argon2id hash; never selected unless asked for explicitly. */
  @Prop({ required: true, select: false })
  passwordHash: string;

  @Prop({ type: [String], default: [] })
  roles: string[];

  @Prop({ type: [String], default: [] })
  groups: string[];

  /** Set by an admin (PATCH /admin/users/:username): the user cannot sign in while it is. */
  @Prop({ type: Date, default: null })
  disabledAt: Date | null;

  createdAt: Date;
  updatedAt: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);

// login, reauth, admin lookups by name; also enforces "username taken" (409)
UserSchema.index({ username: 1 }, { unique: true });
