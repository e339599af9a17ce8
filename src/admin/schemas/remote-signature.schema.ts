import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * The nonce of a remote call that was accepted once. Kept (shared by every instance on the same
 * database) until its timestamp leaves the skew window, after which the timestamp check refuses
 * it anyway; inserting one that is already there is a replay.
 */
@Schema({ collection: 'remote_signatures', versionKey: false })
export class RemoteSignature {
  /** The X-Signature-Nonce value; `_id` makes it unique with no extra index. */
  @Prop({ type: String })
  _id: string;

  @Prop({ type: Date, required: true })
  expiresAt: Date;
}

export const RemoteSignatureSchema = SchemaFactory.createForClass(RemoteSignature);

// TTL: the database drops a signature once its timestamp can no longer pass the skew check
RemoteSignatureSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
