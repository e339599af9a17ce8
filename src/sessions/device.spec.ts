import fc from 'fast-check';
import { parseDevice } from './device';

describe('parseDevice', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
      { name: 'Firefox on Windows', browser: 'Firefox', os: 'Windows', type: 'desktop' },
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { name: 'Safari on iOS', browser: 'Safari', os: 'iOS', type: 'mobile' },
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { name: 'Safari on iOS', browser: 'Safari', os: 'iOS', type: 'tablet' },
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
      { name: 'Chrome on Android', browser: 'Chrome', os: 'Android', type: 'mobile' },
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      { name: 'Chrome on macOS', browser: 'Chrome', os: 'macOS', type: 'desktop' },
    ],
  ])('names %s', (ua, device) => expect(parseDevice(ua)).toEqual(device));

  it.each([null, undefined, '', 'curl/8.4.0', '\u0000\u0001', '=cmd|"/c calc"!A1', 'Hacked/1.0'])(
    'gives every field null for an agent it cannot read (%j)',
    (ua) => expect(parseDevice(ua)).toEqual({ name: null, browser: null, os: null, type: null }),
  );

  it('never throws and always answers the four fields, strings or null', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 512 }), (ua) => {
        const device = parseDevice(ua);
        expect(Object.keys(device).sort()).toEqual(['browser', 'name', 'os', 'type']);
        for (const v of Object.values(device))
          expect(v === null || typeof v === 'string').toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
