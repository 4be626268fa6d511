import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../src/cli/demo.js';
import { parseOptions } from '../../src/cli/args.js';
import { ConfigError } from '../../src/config.js';

describe('the CLI argument parser', () => {
  it('takes --name VALUE and --name=VALUE', () => {
    expect(parseOptions('x', ['--a', '1', '--b=two'], ['a', 'b'])).toEqual({ a: '1', b: 'two' });
  });

  it('refuses unknown options, missing values and positionals with a usage error', () => {
    for (const bad of [['--nope', '1'], ['--a'], ['stray']]) {
      expect(() => parseOptions('x', bad, ['a']), bad.join(' ')).toThrow(ConfigError);
    }
    expect(() => parseOptions('x', ['--nope'], ['a'])).toThrow(/x: Unknown option '--nope'/);
  });

  it('parses the demo options with their defaults and bounds', () => {
    expect(parseDemoArgs([])).toEqual({ workers: 300, pace: 60, dataDir: undefined });
    expect(parseDemoArgs(['--workers=50', '--pace', '0.5', '--data-dir', '/tmp/d'])).toEqual({
      workers: 50,
      pace: 0.5,
      dataDir: '/tmp/d',
    });
    for (const bad of [
      ['--workers', '0'],
      ['--workers', '1.5'],
      ['--pace', 'fast'],
      ['--workers', ''],
    ]) {
      expect(() => parseDemoArgs(bad), bad.join(' ')).toThrow(ConfigError);
    }
  });
});
