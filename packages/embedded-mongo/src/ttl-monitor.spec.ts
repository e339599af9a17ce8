import { EngineStorage } from './storage/engine-storage';
import { removeExpiredDocuments } from './ttl-monitor';

describe('removeExpiredDocuments', () => {
  const now = Date.UTC(2026, 0, 1);

  function storageWith(docs: Record<string, unknown>[], partial?: Record<string, unknown>) {
    const storage = new EngineStorage();
    const collection = storage.create('db', 'sessions');
    collection.createIndex({
      key: { expiresAt: 1 },
      name: 'expiresAt_1',
      expireAfterSeconds: 10,
      ...(partial ? { partialFilterExpression: partial } : {}),
    });
    docs.forEach((doc, i) => collection.insert({ _id: i, ...doc }));
    return { storage, collection };
  }

  it('removes a document exactly when its date plus expireAfterSeconds has passed', () => {
    const { storage, collection } = storageWith([
      { expiresAt: new Date(now - 10_000) },
      { expiresAt: new Date(now - 9_999) },
    ]);
    expect(removeExpiredDocuments(storage, now)).toBe(1);
    expect([...collection.all()].map((doc) => doc._id)).toEqual([1]);
  });

  it('uses the earliest date of an array and ignores values that are not dates', () => {
    const { storage, collection } = storageWith([
      { expiresAt: [new Date(now), new Date(now - 60_000)] },
      { expiresAt: now - 60_000 },
      { expiresAt: null },
    ]);
    expect(removeExpiredDocuments(storage, now)).toBe(1);
    expect(collection.size).toBe(2);
  });

  it('leaves documents outside a partial TTL index alone', () => {
    const { storage, collection } = storageWith(
      [
        { expiresAt: new Date(0), kind: 'temp' },
        { expiresAt: new Date(0), kind: 'keep' },
      ],
      { kind: 'temp' },
    );
    removeExpiredDocuments(storage, now);
    expect([...collection.all()].map((doc) => doc.kind)).toEqual(['keep']);
  });
});
