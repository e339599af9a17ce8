import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * One counter per user, bumped by every committed validation. A validation reads it first and
 * commits by bumping it only if it is unchanged (compare-and-set), so of two validations that
 * overlapped for the same user exactly one commits and the other redoes its work after it.
 */
@Schema({ collection: 'session_validation_generations', versionKey: false })
export class ValidationGeneration {
  /** The user's id. */
  @Prop({ type: Types.ObjectId })
  _id: Types.ObjectId;

  @Prop({ type: Number, required: true })
  value: number;
}

export const ValidationGenerationSchema = SchemaFactory.createForClass(ValidationGeneration);
