import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELP } from '../../src/cli/index.js';
import { ROOT } from '../helpers/process.js';

/** Every environment variable config.ts reads (it is the only reader of process.env). */
function variablesRead(): string[] {
  const source = readFileSync(join(ROOT, 'src/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/env\.([A-Z][A-Z0-9_]+)|env,\s*'([A-Z][A-Z0-9_]+)'/g))
    names.add(m[1] ?? m[2]!);
  return [...names].sort();
}

describe('settings', () => {
  const variables = variablesRead();

  it('finds the variables config.ts reads', () => {
    expect(variables).toContain('PORT');
    expect(variables).toContain('ROSTER_BODY_LIMIT');
    expect(variables.length).toBeGreaterThan(15);
  });

  it('lists every one in the README configuration table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The API'));
    const missing = variables.filter((v) => !table.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('lists every one in roster --help', () => {
    const missing = variables.filter((v) => !HELP.includes(v));
    expect(missing).toEqual([]);
  });
});
