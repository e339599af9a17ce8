import { parseCliOptions, parsePort } from './cli';

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

describe('parseCliOptions', () => {
  it('reads --dbpath, --replSet and --bind_ip in both spellings', () => {
    expect(
      parseCliOptions(['--dbpath', '/data', '--replSet=rs0', '--bind_ip', '::1', '--port=1']),
    ).toEqual({ port: 1, dbPath: '/data', replSet: 'rs0', host: '::1' });
  });

  it('reads --auth as a switch', () => {
    expect(parseCliOptions(['--auth'])).toEqual({ port: 27017, auth: true });
    expect(() => parseCliOptions(['--auth=yes'])).toThrow(/takes no value/);
  });

  it('needs a value after each flag', () => {
    expect(() => parseCliOptions(['--dbpath'])).toThrow(/--dbpath needs a value/);
    expect(() => parseCliOptions(['--replSet', '--port', '1'])).toThrow(/--replSet needs a value/);
    expect(() => parseCliOptions(['--bind_ip='])).toThrow(/--bind_ip needs a value/);
  });
});
