import { runWaterfall } from './hooks';

describe('runWaterfall', () => {
  it('returns the initial value with no hooks', async () => {
    await expect(runWaterfall(undefined, 1, {})).resolves.toBe(1);
    await expect(runWaterfall([], 'x', {})).resolves.toBe('x');
  });

  it('passes each result to the next hook, in order, with the shared context', async () => {
    const seen: string[] = [];
    const ctx = { tag: 'ctx' };
    const result = await runWaterfall<string, typeof ctx>(
      [
        (v, c) => {
          seen.push(`a:${v}:${c.tag}`);
          return `${v}a`;
        },
        async (v) => {
          seen.push(`b:${v}`);
          return `${v}b`;
        },
        (v) => {
          seen.push(`c:${v}`);
          return `${v}c`;
        },
      ],
      '0',
      ctx,
    );
    expect(result).toBe('0abc');
    expect(seen).toEqual(['a:0:ctx', 'b:0a', 'c:0ab']);
  });

  it('stops at the first hook that throws', async () => {
    const after = jest.fn();
    await expect(
      runWaterfall<number, null>(
        [
          () => {
            throw new Error('no');
          },
          after,
        ],
        1,
        null,
      ),
    ).rejects.toThrow('no');
    expect(after).not.toHaveBeenCalled();
  });
});
