import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { Clock } from '../common/clock';
import { Lease } from './schemas/lease.schema';

const DUPLICATE_KEY = 11000;

/**
 * Cluster-wide mutual exclusion through one document per lease. Taking, renewing and releasing
 * are each a single conditional write, so no read-then-write window exists between instances.
 * Expiry is compared with the instances' own clocks: keep the TTL far above any clock skew.
 */
@Injectable()
export class LeaseService {
  constructor(
    @InjectModel(Lease.name) private readonly leases: Model<Lease>,
    private readonly clock: Clock,
  ) {}

  /**
   * Takes the lease if it is free, lapsed, or already ours (which also renews it). Returns
   * false when another holder has it. The filter only matches a lease we may take; when it
   * matches nothing the upsert tries to insert a second document with the same `_id`, and the
   * unique index turns that into a duplicate-key error: the lease is held by someone else.
   */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    try {
      const lease = await this.leases
        .findOneAndUpdate(
          { _id: name, $or: [{ expiresAt: { $lte: now } }, { holder }] },
          { $set: { holder, expiresAt: new Date(now.getTime() + ttlMs) } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean();
      return lease?.holder === holder;
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** Gives the lease up if we still hold it, so the next run anywhere need not wait for expiry. */
  async release(name: string, holder: string): Promise<void> {
    await this.leases.deleteOne({ _id: name, holder });
  }
}
