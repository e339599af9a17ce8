import { applyUpdate, upsertSeed } from './update-document';

describe('applyUpdate: $set of _id', () => {
  it('accepts the document’s own _id as a no-op, as mongod does (connect-mongo relies on it)', () => {
    const next = applyUpdate(
      { _id: 'sid', a: 1 },
      { $set: { _id: 'sid', a: 2 } },
      { query: { _id: 'sid' } },
    );
    expect(next).toEqual({ _id: 'sid', a: 2 });
  });

  it('upserts with the filter’s _id when $set repeats it', () => {
    const query = { _id: 'sid' };
    const update = { $set: { _id: 'sid', session: '{}' } };
    const next = applyUpdate(upsertSeed(query, update), update, { query, inserting: true });
    expect(next).toEqual({ _id: 'sid', session: '{}' });
    expect(Object.keys(next)[0]).toBe('_id');
  });

  it('takes _id from $set when upserting with a filter that does not name it', () => {
    const update = { $set: { _id: 'new', a: 1 } };
    const next = applyUpdate(upsertSeed({ a: 1 }, update), update, {
      query: { a: 1 },
      inserting: true,
    });
    expect(next).toEqual({ _id: 'new', a: 1 });
  });

  it('still refuses a change of _id', () => {
    expect(() =>
      applyUpdate({ _id: 'sid', a: 1 }, { $set: { _id: 'other' } }, { query: { _id: 'sid' } }),
    ).toThrow(/immutable field '_id'/);
  });
});

describe('applyUpdate: array filters', () => {
  it('refuses an identifier without a filter and a filter without a use', () => {
    expect(() => applyUpdate({ _id: 1, a: [1] }, { $set: { 'a.$[x]': 0 } }, { query: {} })).toThrow(
      /No array filter found for identifier 'x'/,
    );
    expect(() =>
      applyUpdate({ _id: 1, a: [1] }, { $set: { a: [] } }, { query: {}, arrayFilters: [{ y: 1 }] }),
    ).toThrow(/identifier 'y' was not used/);
  });
});
