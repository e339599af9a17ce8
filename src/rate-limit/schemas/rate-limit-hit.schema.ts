import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One rate-limit counter (a throttler name and its tracker key), shared by every instance on
 * the database: a fixed window of `hits` that ends at `windowEndsAt`, and a block once the limit
 * is passed. `_id` is `<throttler>:<key>`, so the unique `_id` index is what makes two instances
 * opening the same window collide instead of both starting at one.
 */
@Schema({ collection: 'rate_limits', versionKey: false })
export class RateLimitHit {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: Number, required: true })
  hits: number;

  @Prop({ type: Date, required: true })
  windowEndsAt: Date;

  /** Set once the limit is passed: every attempt until then is refused without counting. */
  @Prop({ type: Date, default: null })
  blockedUntil: Date | null;

  /** The later of the window's end and the block's: when the document means nothing any more. */
  @Prop({ type: Date, required: true })
  expiresAt: Date;
}

export const RateLimitHitSchema = SchemaFactory.createForClass(RateLimitHit);

// TTL: the database drops a counter once neither its window nor its block is running
RateLimitHitSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
