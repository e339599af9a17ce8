import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { peerConfig, PeerConfig } from '../../../config';
import { RemoteSignature } from '../schemas/remote-signature.schema';

const DUPLICATE_KEY = 11000;

/**
 * Remembers the nonces of accepted remote calls for as long as their timestamp could still pass
 * the skew check. It lives in MongoDB rather than in process memory so that a request replayed
 * to a different instance on the same database is refused too; a replay to an instance on
 * another database is refused by the audience check instead (the signature names its receiver).
 */
@Injectable()
export class ReplayCache {
  constructor(
    @InjectModel(RemoteSignature.name) private readonly signatures: Model<RemoteSignature>,
    @Inject(peerConfig.KEY) private readonly config: PeerConfig,
  ) {}

  /**
   * Records a nonce as used. Returns false if it had been used already (a replay). The insert
   * is the whole check: two concurrent replays cannot both succeed.
   */
  async remember(nonce: string, timestampSeconds: number): Promise<boolean> {
    const expiresAt = new Date((timestampSeconds + this.config.maxClockSkewSeconds + 1) * 1000);
    try {
      await this.signatures.create({ _id: nonce, expiresAt });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }
}
