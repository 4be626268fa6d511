import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';

/** Every option of the CLI takes a value (`--name VALUE` or `--name=VALUE`). */
export type OptionNames = readonly string[];

/**
 * The one argument parser of the `roster` command (node:util parseArgs): options with values,
 * no positionals; an unknown option or a missing value is a usage error (ConfigError).
 */
export function parseOptions(
  command: string,
  args: readonly string[],
  names: OptionNames,
  help = '',
): Partial<Record<string, string>> {
  const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
    return values as Partial<Record<string, string>>;
  } catch (err) {
    // parseArgs explains itself ("Unknown option '--x'", "Option '--workers <value>' argument missing").
    const reason = (err as Error).message.split('. ')[0] ?? 'bad arguments';
    throw new ConfigError(`${command}: ${reason}${help ? `\n\n${help}` : ''}`);
  }
}

/** A number option within bounds; `integer` refuses fractions. Underscores group digits (1_000_000). */
export function boundedNumber(flag: string, raw: string, min: number, max: number, integer: boolean): number {
  const v = raw.replace(/_/g, '');
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`,
    );
  }
  return n;
}
