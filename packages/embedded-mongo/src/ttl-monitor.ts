import { pathValues } from './storage/document-path';
import type { EngineStorage } from './storage/engine-storage';

/** mongod's `ttlMonitorSleepSecs` default. */
export const DEFAULT_TTL_MONITOR_INTERVAL_MS = 60_000;

/**
 * One pass of mongod's TTL monitor: deletes documents whose TTL-indexed date (the earliest, for
 * an array of dates) is more than `expireAfterSeconds` in the past. Documents without a date
 * there never expire. Returns how many were deleted.
 */
export function removeExpiredDocuments(storage: EngineStorage, now = Date.now()): number {
  let removed = 0;
  for (const collection of storage.allCollections()) {
    for (const index of collection.indexes) {
      const seconds = index.spec.expireAfterSeconds;
      if (typeof seconds !== 'number' || index.fields.length !== 1) continue;
      const field = index.fields[0];
      const expired = [...collection.all()].filter((doc) => {
        if (!index.includes(doc)) return false;
        const dates = pathValues(doc, field).filter((v): v is Date => v instanceof Date);
        if (dates.length === 0) return false;
        const earliest = Math.min(...dates.map((date) => date.getTime()));
        return earliest + seconds * 1000 <= now;
      });
      for (const doc of expired) collection.remove(doc);
      removed += expired.length;
    }
  }
  return removed;
}

/** Runs passes every `intervalMs` without keeping the process alive; returns the stopper. */
export function startTtlMonitor(storage: EngineStorage, intervalMs: number): () => void {
  const timer = setInterval(() => removeExpiredDocuments(storage), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
