import fc from 'fast-check';
import { CommandDispatcher } from './command-dispatcher';
import { CursorRegistry } from './cursor-registry';
import { EngineStorage } from './storage/engine-storage';

const COMMANDS = [
  'hello',
  'isMaster',
  'ping',
  'create',
  'drop',
  'listCollections',
  'insert',
  'find',
  'getMore',
  'killCursors',
  'update',
  'delete',
  'findAndModify',
  'count',
  'distinct',
  'aggregate',
  'createIndexes',
  'listIndexes',
  'dropIndexes',
];

const FIELDS = [
  'documents',
  'updates',
  'deletes',
  'filter',
  'query',
  'sort',
  'projection',
  'limit',
  'skip',
  'batchSize',
  'update',
  'pipeline',
  'cursor',
  'indexes',
  'index',
  'key',
  'cursors',
  'collection',
  'fields',
  'new',
  'remove',
  'upsert',
];

describe('CommandDispatcher', () => {
  function dispatcher(): CommandDispatcher {
    const storage = new EngineStorage();
    storage.getOrCreate('db', 'c').insert({ _id: 1, a: 1, tags: ['x'] });
    return new CommandDispatcher(storage, new CursorRegistry());
  }

  it('answers unknown commands with CommandNotFound', () => {
    expect(dispatcher().execute({ frobnicate: 1 }, 'db', 1)).toMatchObject({
      ok: 0,
      code: 59,
      codeName: 'CommandNotFound',
    });
    // Not through the prototype either.
    expect(dispatcher().execute({ toString: 1 }, 'db', 1)).toMatchObject({ code: 59 });
  });

  it.each([
    [{ update: 'c', updates: [{ q: 5, u: { $set: { a: 1 } } }] }],
    [{ delete: 'c', deletes: [{ q: 'x', limit: 0 }] }],
    [{ aggregate: 'c', pipeline: [{ $match: 5 }], cursor: {} }],
    [{ findAndModify: 'c', query: 5, remove: true }],
  ])('refuses a filter that is not a document: %j', (command) => {
    const reply = dispatcher().execute(command, 'db', 1);
    const error = reply.ok === 0 ? reply : reply.writeErrors?.[0];
    expect(error).toMatchObject({ code: 14 });
  });

  it('refuses a pipeline stage that is not a document', () => {
    const reply = dispatcher().execute({ aggregate: 'c', pipeline: [null], cursor: {} }, 'db', 1);
    expect(reply).toMatchObject({ ok: 0, code: 14 });
  });

  it('refuses index names that are not strings', () => {
    const reply = dispatcher().execute({ dropIndexes: 'c', index: [{ __proto__: null }] }, 'db', 1);
    expect(reply).toMatchObject({ ok: 0, code: 14 });
  });

  it('answers malformed commands with a command error, never an internal error', () => {
    const value = fc.oneof(
      fc.constant('c'),
      fc.constant(null),
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.dictionary(fc.constantFrom('a', '$set', '$gt', 'q', 'u', 'key', 'name'), fc.jsonValue()),
      fc.array(
        fc.dictionary(
          fc.constantFrom('q', 'u', 'limit', 'multi', 'upsert', 'key', 'name', '$match', '$set'),
          fc.oneof(fc.integer(), fc.string(), fc.constant({}), fc.constant({ $set: 1 })),
        ),
        { maxLength: 2 },
      ),
      fc.array(fc.jsonValue(), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...COMMANDS),
        value,
        fc.dictionary(fc.constantFrom(...FIELDS), value),
        (name, target, fields) => {
          const reply = dispatcher().execute({ [name]: target, ...fields }, 'db', 1);
          expect(reply.ok === 1 || reply.ok === 0).toBe(true);
          if (reply.ok === 0) expect(reply.codeName).not.toBe('InternalError');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
