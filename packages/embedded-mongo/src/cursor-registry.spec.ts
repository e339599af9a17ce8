import { Long } from 'bson';
import { CursorRegistry } from './cursor-registry';

const docs = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

describe('CursorRegistry', () => {
  it('hands a result over in batches and closes the cursor with the last one', () => {
    const registry = new CursorRegistry();
    const first = registry.open('db.c', docs(5), 2);
    expect(first.batch).toHaveLength(2);
    expect(first.id.isZero()).toBe(false);
    expect(registry.getMore(first.id, 'db.c', 2).batch).toEqual([{ i: 2 }, { i: 3 }]);
    const last = registry.getMore(first.id, 'db.c', 2);
    expect(last.batch).toEqual([{ i: 4 }]);
    expect(last.id.isZero()).toBe(true);
    expect(registry.openCount).toBe(0);
  });

  it('opens no cursor when the first batch holds everything, or for a single batch', () => {
    const registry = new CursorRegistry();
    expect(registry.open('db.c', docs(3), undefined).id.isZero()).toBe(true);
    expect(registry.open('db.c', docs(300), 10, true).id.isZero()).toBe(true);
    expect(registry.openCount).toBe(0);
  });

  it('returns an empty first batch for batchSize 0 and the rest on getMore', () => {
    const registry = new CursorRegistry();
    const first = registry.open('db.c', docs(3), 0);
    expect(first.batch).toEqual([]);
    expect(registry.getMore(first.id, 'db.c', undefined).batch).toHaveLength(3);
  });

  it('refuses getMore for an unknown id, a killed cursor or another namespace', () => {
    const registry = new CursorRegistry();
    const { id } = registry.open('db.c', docs(10), 1);
    expect(() => registry.getMore(id, 'db.other', 1)).toThrow(/not found/);
    expect(registry.kill(id)).toBe(true);
    expect(registry.kill(id)).toBe(false);
    expect(() => registry.getMore(id, 'db.c', 1)).toThrow(/not found/);
    expect(() => registry.getMore(Long.fromNumber(12345), 'db.c', 1)).toThrow(/not found/);
  });

  it('reaps cursors idle for longer than ten minutes', () => {
    const registry = new CursorRegistry();
    registry.open('db.c', docs(10), 1);
    registry.reapIdle(Date.now() + 9 * 60_000);
    expect(registry.openCount).toBe(1);
    registry.reapIdle(Date.now() + 11 * 60_000);
    expect(registry.openCount).toBe(0);
  });

  it('stops a batch before it would outgrow a BSON reply', () => {
    const registry = new CursorRegistry();
    const big = Array.from({ length: 5 }, () => ({ s: 'x'.repeat(6 * 1024 * 1024) }));
    const first = registry.open('db.c', big, 100);
    expect(first.batch).toHaveLength(2);
  });
});
