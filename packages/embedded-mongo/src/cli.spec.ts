import { parsePort } from './cli';

describe('parsePort', () => {
  it('defaults to 27017, like mongod', () => {
    expect(parsePort([])).toBe(27017);
  });

  it('reads --port <n> and --port=<n>', () => {
    expect(parsePort(['--port', '0'])).toBe(0);
    expect(parsePort(['--port=28000'])).toBe(28000);
  });

  it('rejects a missing, malformed or out-of-range port and unknown arguments', () => {
    expect(() => parsePort(['--port'])).toThrow(/port number/);
    expect(() => parsePort(['--port', 'x'])).toThrow(/port number/);
    expect(() => parsePort(['--port', '70000'])).toThrow(/port number/);
    expect(() => parsePort(['--verbose'])).toThrow(/unknown argument/);
  });
});
