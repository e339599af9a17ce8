import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CommonModule } from '../common/common.module';
import { MongoThrottlerStorage } from './mongo-throttler.storage';
import { RateLimitHit, RateLimitHitSchema } from './schemas/rate-limit-hit.schema';

/** Rate-limit counters in MongoDB, shared by every instance (a ThrottlerStorage). */
@Module({
  imports: [
    CommonModule,
    MongooseModule.forFeature([{ name: RateLimitHit.name, schema: RateLimitHitSchema }]),
  ],
  providers: [MongoThrottlerStorage],
  exports: [MongoThrottlerStorage],
})
export class RateLimitModule {}
