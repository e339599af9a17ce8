import { Schema, type Model, type Types } from 'mongoose';
import { useMongooseConnection } from './support/mongoose';

/**
 * What ordinary Mongoose apps send, each case one that Mongoose's own test suite found the
 * engine answering differently from mongod (issue 16).
 */
describe('Mongoose apps on the engine', () => {
  const mongo = useMongooseConnection();

  describe('two positional updates to one array element', () => {
    interface Child {
      _id: Types.ObjectId;
      name: string;
      updatedAt: Date;
    }
    const childSchema = new Schema<Child>({ name: String }, { timestamps: true });
    const parentSchema = new Schema<{ children: Child[] }>({ children: [childSchema] });
    const Parent = (): Model<{ children: Child[] }> =>
      (mongo.connection.models.Parent as Model<{ children: Child[] }> | undefined) ??
      (mongo.connection.model('Parent', parentSchema) as unknown as Model<{ children: Child[] }>);

    it('updates a subdocument with timestamps ($set children.$.name and children.$.updatedAt)', async () => {
      const parent = await Parent().create({ children: [{ name: 'a' }, { name: 'b' }] });
      const before = parent.children[1].updatedAt;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await Parent().updateOne(
        { _id: parent._id, 'children._id': parent.children[1]._id },
        { $set: { 'children.$.name': 'B' } },
      );
      const stored = await Parent().findById(parent._id).lean();
      expect(stored?.children.map((child) => child.name)).toEqual(['a', 'B']);
      expect(stored?.children[1].updatedAt.getTime()).toBeGreaterThan(before.getTime());
      expect(stored?.children[0].updatedAt).toEqual(parent.children[0].updatedAt);
    });

    it('applies $set comments.$.title with $addToSet comments.$.comments', async () => {
      const Post = mongo.connection.model(
        'PostWithComments',
        new Schema({
          comments: [{ body: String, title: String, comments: [{ body: String }] }],
        }),
      );
      const post = await Post.create({
        comments: [{ body: 'worked great' }, { body: 'not so much' }],
      });
      await Post.updateOne(
        { _id: post._id, 'comments.body': 'not so much' },
        {
          $addToSet: { 'comments.$.comments': { body: 'The Ring Of Power' } },
          $set: { 'comments.$.title': 'MongoDB++' },
        },
      );
      const stored = await Post.findById(post._id).lean();
      expect(stored?.comments[0]).toMatchObject({ body: 'worked great' });
      expect(stored?.comments[0].title).toBeUndefined();
      expect(stored?.comments[1]).toMatchObject({
        body: 'not so much',
        title: 'MongoDB++',
        comments: [{ body: 'The Ring Of Power' }],
      });
    });
  });

  describe('serverStatus and explain', () => {
    it('answers serverStatus with the version, counters and connections (Mongoose test helpers read it)', async () => {
      const admin = mongo.connection.db?.admin();
      const status = await admin?.serverStatus();
      expect(status).toMatchObject({ ok: 1, process: 'mongod', version: '7.0.0' });
      expect(status?.connections.current).toBeGreaterThanOrEqual(1);
      expect(status?.opcounters.command).toBeGreaterThan(0);
      expect(status?.localTime).toBeInstanceOf(Date);
    });

    it('explains a query through an index and a collection scan, and an aggregation', async () => {
      const schema = new Schema({ email: { type: String, index: true }, n: Number });
      const Account = mongo.connection.model('ExplainedAccount', schema);
      await Account.init();
      await Account.create([
        { email: 'a@x.io', n: 1 },
        { email: 'b@x.io', n: 2 },
      ]);
      const indexed = (await Account.find({ email: 'a@x.io' }).explain(
        'executionStats',
      )) as unknown as ExplainReply;
      expect(indexed.queryPlanner.winningPlan).toMatchObject({
        stage: 'FETCH',
        inputStage: { stage: 'IXSCAN', indexName: 'email_1', keyPattern: { email: 1 } },
      });
      expect(indexed.executionStats).toMatchObject({
        nReturned: 1,
        totalKeysExamined: 1,
        totalDocsExamined: 1,
      });
      const scanned = (await Account.find({ n: { $gt: 1 } }).explain()) as unknown as ExplainReply;
      expect(scanned.queryPlanner.winningPlan).toMatchObject({
        stage: 'COLLSCAN',
        filter: { n: { $gt: 1 } },
      });
      const pipeline = (await Account.aggregate([
        { $match: { email: 'b@x.io' } },
        { $group: { _id: null, total: { $sum: '$n' } } },
      ]).explain('executionStats')) as unknown as { stages: Array<Record<string, ExplainReply>> };
      expect(pipeline.stages[0].$cursor.queryPlanner.winningPlan.inputStage).toMatchObject({
        indexName: 'email_1',
      });
      expect(pipeline.stages[1]).toEqual({ $group: { _id: null, total: { $sum: '$n' } } });
    });
  });

  describe('writes mongod refuses', () => {
    it('refuses a capped collection declared without a size', async () => {
      const Capped = mongo.connection.model(
        'CappedWithoutSize',
        new Schema({ n: Number }, { capped: { max: 10 } as never, autoCreate: false }),
      );
      await expect(Capped.createCollection()).rejects.toMatchObject({ code: 72 });
    });

    it('refuses $set of a field through an array of subdocuments', async () => {
      const List = mongo.connection.model('ListOfItems', new Schema({ items: [{ x: Number }] }));
      const list = await List.create({ items: [{ x: 1 }, { x: 2 }] });
      await expect(
        List.updateOne({ _id: list._id }, { $set: { 'items.x': 3 } }),
      ).rejects.toMatchObject({ code: 28 });
      expect((await List.findById(list._id).lean())?.items.map((item) => item.x)).toEqual([1, 2]);
    });

    it('refuses a document over 16 MB with BSONObjectTooLarge', async () => {
      const Blob = mongo.connection.model('BigBlob', new Schema({ body: String }));
      await expect(Blob.create({ body: 'x'.repeat(16 * 1024 * 1024) })).rejects.toMatchObject({
        code: 10334,
      });
      expect(await Blob.countDocuments()).toBe(0);
    });

    it('enforces a $jsonSchema validator, and collMod changes it', async () => {
      await mongo.connection.createCollection('validated_people', {
        validator: {
          $jsonSchema: {
            bsonType: 'object',
            required: ['name'],
            properties: { name: { bsonType: 'string' }, age: { bsonType: 'number', minimum: 0 } },
          },
        },
      });
      const Person = mongo.connection.model(
        'ValidatedPerson',
        new Schema({ name: String, age: Number }),
        'validated_people',
      );
      await Person.create({ name: 'Ann', age: 3 });
      await expect(Person.create({ age: 4 })).rejects.toMatchObject({ code: 121 });
      await expect(Person.updateOne({ name: 'Ann' }, { age: -1 })).rejects.toMatchObject({
        code: 121,
      });
      await mongo.connection.db?.command({ collMod: 'validated_people', validationAction: 'warn' });
      await Person.create({ age: 5 });
      expect(await Person.countDocuments()).toBe(2);
    });
  });

  describe('queries, projections and updates', () => {
    interface TaggedDoc {
      tag?: unknown;
      tags: string[];
    }
    const Tagged = (): Model<TaggedDoc> =>
      (mongo.connection.models.Tagged as Model<TaggedDoc> | undefined) ??
      mongo.connection.model<TaggedDoc>(
        'Tagged',
        new Schema<TaggedDoc>({ tag: Schema.Types.Mixed, tags: [String] }),
      );

    it('selects with $elemMatch of an operator-only condition', async () => {
      const doc = await Tagged().create({ tags: ['a', 'b', 'c'] });
      const found = await Tagged()
        .findById(doc._id)
        .select({ tags: { $elemMatch: { $in: ['b', 'c'] } } })
        .lean();
      expect(found?.tags).toEqual(['b']);
    });

    it('matches $all against a field holding a single value', async () => {
      const single = await Tagged().create({ tag: 'solo' });
      const many = await Tagged().create({ tag: ['solo', 'duo'] });
      const found = await Tagged()
        .find({ tag: { $all: ['solo'] } })
        .sort({ _id: 1 })
        .lean();
      expect(found.map((doc) => String(doc._id))).toEqual([String(single._id), String(many._id)]);
    });

    it('$pull of a document condition leaves scalars in place', async () => {
      const Bag = mongo.connection.model(
        'Bag',
        new Schema<{ things: unknown[] }>({ things: [Schema.Types.Mixed] }),
      );
      const bag = await Bag.create({
        things: [1, { kind: 'x' }, { kind: 'x', n: 2 }, 'x'] as unknown[],
      });
      await Bag.updateOne({ _id: bag._id }, { $pull: { things: { kind: 'x' } } } as never);
      expect((await Bag.findById(bag._id).lean())?.things).toEqual([1, 'x']);
    });

    it('refuses $where and names an unknown pipeline stage as mongod does', async () => {
      await expect(Tagged().find({ $where: 'true' })).rejects.toMatchObject({ code: 2 });
      await expect(Tagged().aggregate([{ $lookAround: {} } as never])).rejects.toMatchObject({
        code: 40324,
        message: "Unrecognized pipeline stage name: '$lookAround'",
      });
    });
  });

  it('refuses a text index and $text with mongod’s codes, so the app learns at start-up', async () => {
    const schema = new Schema({ body: String }, { autoIndex: false });
    schema.index({ body: 'text' });
    const Article = mongo.connection.model('SearchableArticle', schema);
    await expect(Article.createIndexes()).rejects.toMatchObject({ code: 67 });
    await Article.create({ body: 'hello world' });
    await expect(Article.find({ $text: { $search: 'hello' } })).rejects.toMatchObject({
      code: 27,
    });
  });

  it('queries and updates a __proto__ key inside a Mixed field as an ordinary field', async () => {
    const Bucket = mongo.connection.model('ProtoBucket', new Schema({ data: Schema.Types.Mixed }));
    await Bucket.collection.insertOne(JSON.parse('{"data":{"__proto__":{"x":1}}}') as never);
    const filter = JSON.parse('{"data.__proto__.x":1}') as Record<string, unknown>;
    expect(await Bucket.countDocuments(filter)).toBe(1);
    expect(await Bucket.countDocuments(JSON.parse('{"data.__proto__.x":2}') as object)).toBe(0);
    await Bucket.updateOne(filter, JSON.parse('{"$set":{"data.__proto__.y":2}}') as object);
    const [stored] = await Bucket.find().lean();
    const data = stored.data as unknown as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toEqual({ x: 1, y: 2 });
    expect(({} as Record<string, unknown>).y).toBeUndefined();
  });
});

interface ExplainReply {
  queryPlanner: { winningPlan: { stage: string; inputStage?: Record<string, unknown> } };
  executionStats?: Record<string, unknown>;
}
