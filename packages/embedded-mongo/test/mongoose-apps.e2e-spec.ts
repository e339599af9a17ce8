import mongoose, { Schema, type Connection, type Model, type Types } from 'mongoose';
import { startTestDatabase, type TestDatabase } from './support/database';

/**
 * What ordinary Mongoose apps send, each case one that Mongoose's own test suite found the
 * engine answering differently from mongod (issue 16).
 */
describe('Mongoose apps on the engine', () => {
  let database: TestDatabase;
  let connection: Connection;

  beforeAll(async () => {
    database = await startTestDatabase();
    connection = await mongoose.createConnection(database.uri).asPromise();
  });

  afterAll(async () => {
    await connection.close();
    await database.stop();
  });

  describe('two positional updates to one array element', () => {
    interface Child {
      _id: Types.ObjectId;
      name: string;
      updatedAt: Date;
    }
    const childSchema = new Schema<Child>({ name: String }, { timestamps: true });
    const parentSchema = new Schema<{ children: Child[] }>({ children: [childSchema] });
    const Parent = (): Model<{ children: Child[] }> =>
      (connection.models.Parent as Model<{ children: Child[] }> | undefined) ??
      connection.model('Parent', parentSchema);

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
      const Post = connection.model(
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
});
