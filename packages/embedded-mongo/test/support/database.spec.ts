import { withDatabase } from './database';

describe('withDatabase', () => {
  it('adds or replaces the database name', () => {
    expect(withDatabase('mongodb://127.0.0.1:27017', 'db1')).toBe('mongodb://127.0.0.1:27017/db1');
    expect(withDatabase('mongodb://127.0.0.1:27017/', 'db1')).toBe('mongodb://127.0.0.1:27017/db1');
    expect(withDatabase('mongodb://h/old', 'db1')).toBe('mongodb://h/db1');
  });

  it('keeps credentials, replica-set hosts and options', () => {
    expect(
      withDatabase('mongodb://u:p@h1:27017,h2:27018/admin?replicaSet=rs&authSource=admin', 'x'),
    ).toBe('mongodb://u:p@h1:27017,h2:27018/x?replicaSet=rs&authSource=admin');
    expect(withDatabase('mongodb+srv://u:p@cluster.example.net/?retryWrites=true', 'x')).toBe(
      'mongodb+srv://u:p@cluster.example.net/x?retryWrites=true',
    );
  });

  it('refuses something that is not a MongoDB URI', () => {
    expect(() => withDatabase('http://example.com', 'x')).toThrow(/mongodb:\/\//);
  });
});
