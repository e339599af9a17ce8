import { ratioGoal } from '../../bench/lib/results';

describe('ratioGoal', () => {
  it('meets an "at least" goal at the threshold itself', () => {
    expect(ratioGoal('guard', 0.85, 0.85)).toEqual({
      name: 'guard',
      target: '≥ 0.85×',
      actual: '0.85×',
      met: true,
    });
    expect(ratioGoal('guard', 0.849, 0.85).met).toBe(false);
  });

  it('needs a strict goal to be passed, not reached', () => {
    expect(ratioGoal('ahead', 1, 1, true)).toEqual({
      name: 'ahead',
      target: '> 1×',
      actual: '1×',
      met: false,
    });
    expect(ratioGoal('ahead', 1.01, 1, true).met).toBe(true);
  });
});
