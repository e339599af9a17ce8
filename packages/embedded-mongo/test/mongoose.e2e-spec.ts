import mongoose, { Schema } from 'mongoose';
import { useMongooseConnection } from './support/mongoose';

/** Mongoose models with unique, compound, partial and TTL indexes, as the service declares them. */
describe('Mongoose models', () => {
  const mongo = useMongooseConnection();

  const userSchema = new Schema(
    {
      email: { type: String, required: true, unique: true },
      name: String,
      tenant: String,
      handle: String,
      active: Boolean,
    },
    { timestamps: true },
  );
  userSchema.index({ tenant: 1, handle: 1 }, { unique: true, sparse: true });
  userSchema.index({ name: 1 }, { unique: true, partialFilterExpression: { active: true } });

  const sessionSchema = new Schema({
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    expiresAt: { type: Date, expires: 0 },
  });

  it('creates the declared indexes and reports them', async () => {
    const User = mongo.connection.model('User', userSchema);
    await User.init();
    const names = (await User.listIndexes()).map((index) => index.name).sort();
    expect(names).toEqual(['_id_', 'email_1', 'name_1', 'tenant_1_handle_1']);
  });

  it('raises the duplicate-key error Mongoose users expect', async () => {
    const User = mongo.connection.model('User', userSchema);
    await User.init();
    await User.create({ email: 'dup@x.io' });
    await expect(User.create({ email: 'dup@x.io' })).rejects.toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'dup@x.io' },
    });
  });

  it('enforces a compound unique index', async () => {
    const User = mongo.connection.model('User', userSchema);
    await User.init();
    await User.create({ email: 'c1@x.io', tenant: 't', handle: 'h' });
    await User.create({ email: 'c2@x.io', tenant: 't', handle: 'other' });
    await expect(User.create({ email: 'c3@x.io', tenant: 't', handle: 'h' })).rejects.toMatchObject(
      {
        code: 11000,
        keyValue: { tenant: 't', handle: 'h' },
      },
    );
  });

  it('enforces a partial unique index only on documents it covers', async () => {
    const User = mongo.connection.model('User', userSchema);
    await User.init();
    await User.create({ email: 'p1@x.io', name: 'Pat', active: false });
    await User.create({ email: 'p2@x.io', name: 'Pat', active: true });
    await User.create({ email: 'p3@x.io', name: 'Pat' });
    await expect(
      User.create({ email: 'p4@x.io', name: 'Pat', active: true }),
    ).rejects.toMatchObject({
      code: 11000,
      keyPattern: { name: 1 },
    });
  });

  it('rejects an update that would duplicate a unique key, leaving the document as it was', async () => {
    const User = mongo.connection.model('User', userSchema);
    await User.init();
    await User.create({ email: 'u1@x.io' });
    const second = await User.create({ email: 'u2@x.io' });
    await expect(
      User.updateOne({ _id: second._id }, { $set: { email: 'u1@x.io' } }),
    ).rejects.toMatchObject({ code: 11000 });
    expect((await User.findById(second._id).lean())?.email).toBe('u2@x.io');
  });

  it('finds by ObjectId reference and by _id', async () => {
    const Session = mongo.connection.model('Session', sessionSchema);
    await Session.init();
    const userId = new mongoose.Types.ObjectId();
    const created = await Session.create({ userId, expiresAt: new Date(Date.now() + 60_000) });
    expect(await Session.countDocuments({ userId })).toBe(1);
    expect((await Session.findById(created._id).lean())?.userId).toEqual(userId);
  });

  it('declares the TTL index with expireAfterSeconds', async () => {
    const Session = mongo.connection.model('Session', sessionSchema);
    await Session.init();
    const ttl = (await Session.listIndexes()).find((index) => index.name === 'expiresAt_1');
    expect(ttl?.expireAfterSeconds).toBe(0);
  });

  it('syncIndexes drops indexes no longer declared and creates new ones', async () => {
    const Legacy = mongo.connection.model('Legacy', new Schema({ a: String, b: String }), 'legacy');
    await Legacy.init();
    await Legacy.collection.createIndex({ a: 1 }, { name: 'a_1' });
    const schema = new Schema({ a: String, b: String });
    schema.index({ b: 1 }, { unique: true });
    const Current = mongo.connection.model('Current', schema, 'legacy');
    const dropped = await Current.syncIndexes();
    expect(dropped).toEqual(['a_1']);
    const names = (await Current.listIndexes()).map((index) => index.name).sort();
    expect(names).toEqual(['_id_', 'b_1']);
  });

  it('syncIndexes leaves unchanged unique, compound, partial and TTL indexes alone', async () => {
    const User = mongo.connection.model('User', userSchema);
    const Session = mongo.connection.model('Session', sessionSchema);
    await User.syncIndexes();
    await Session.syncIndexes();
    expect(await User.syncIndexes()).toEqual([]);
    expect(await Session.syncIndexes()).toEqual([]);
    expect(await User.diffIndexes()).toEqual({ toDrop: [], toCreate: [] });
    expect(await Session.diffIndexes()).toEqual({ toDrop: [], toCreate: [] });
  });

  it('populates references and pages with sort, skip and limit', async () => {
    const Owner = mongo.connection.model('Owner', new Schema({ name: String }));
    const Device = mongo.connection.model(
      'Device',
      new Schema({ owner: { type: Schema.Types.ObjectId, ref: 'Owner' }, n: Number }),
    );
    const [ann, bob] = await Owner.create([{ name: 'Ann' }, { name: 'Bob' }]);
    await Device.create([1, 2, 3, 4].map((n) => ({ owner: n % 2 ? ann._id : bob._id, n })));
    const page = await Device.find().sort({ n: -1 }).skip(1).limit(2).populate('owner').lean();
    expect(page.map((d) => [d.n, (d.owner as unknown as { name: string }).name])).toEqual([
      [3, 'Ann'],
      [2, 'Bob'],
    ]);
    expect(await Device.exists({ owner: bob._id, n: 4 })).toBeTruthy();
    const bulk = await Device.bulkWrite([
      { updateOne: { filter: { n: 1 }, update: { $set: { n: 10 } } } },
      { deleteMany: { filter: { owner: bob._id } } },
      { insertOne: { document: { owner: ann._id, n: 5 } } },
    ]);
    expect(bulk).toMatchObject({ modifiedCount: 1, deletedCount: 2, insertedCount: 1 });
  });

  it('findOneAndUpdate with upsert and timestamps', async () => {
    const User = mongo.connection.model('User', userSchema);
    const doc = await User.findOneAndUpdate(
      { email: 'upsert@x.io' },
      { $set: { name: 'Up' } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(doc).toMatchObject({ email: 'upsert@x.io', name: 'Up' });
    expect(doc?.createdAt).toBeInstanceOf(Date);
  });
});
