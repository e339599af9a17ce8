import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';

/**
 * A named, expiring lock shared by every instance through MongoDB. `_id` is the lease name, so
 * the unique `_id` index is what makes two concurrent takers collide instead of both winning.
 */
@Schema({ collection: 'leases', versionKey: false })
export class Lease {
  @Prop({ type: String, required: true })
  _id: string;

  /** Who holds it: hostname, pid and a random part, unique per running instance. */
  @Prop({ type: String, required: true })
  holder: string;

  /** After this instant anyone may take the lease over (its holder crashed or hung). */
  @Prop({ type: Date, required: true })
  expiresAt: Date;
}

export type LeaseDocument = HydratedDocument<Lease>;
export const LeaseSchema = SchemaFactory.createForClass(Lease);
// No secondary index: every query is by _id.
