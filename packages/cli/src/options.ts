// Options and value parsers shared by several commands: `-o, --output`, positive integers, version
// keys, `ENV=URL` pairs, URLs and kind names. Bad values become commander usage errors (exit 2).
import { InvalidArgumentError, Option } from 'commander';
import { KINDS, KIND_PLURALS, NAME_PATTERN, NAME_RULE, versionKey, type Kind } from '@apigov/model';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';

export interface OutputOptions {
  output: OutputFormat;
}

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table');
}

export function positiveInt(max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}.`);
    return Number(value);
  };
}

export function portOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0-65535; 0 picks a free port).');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(value);
}

/** `1`, `v1`, `1.2.0` → `v1`. */
export function versionOption(value: string): string {
  const key = versionKey(value);
  if (key === undefined) throw new InvalidArgumentError('must be a version like v1, 1 or 1.2.0.');
  return key;
}

export function urlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('must be an absolute http(s) URL.');
  return value;
}

export function nameOption(value: string): string {
  if (!NAME_PATTERN.test(value)) throw new InvalidArgumentError(`must be ${NAME_RULE}.`);
  return value;
}

/** Repeatable `--upstream ENV=URL`. */
export function collectUpstream(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  const env = value.slice(0, eq);
  if (eq < 1 || !NAME_PATTERN.test(env)) throw new InvalidArgumentError('must be ENV=URL, e.g. dev=http://127.0.0.1:4100.');
  return { ...previous, [env]: urlOption(value.slice(eq + 1)) };
}

/** Repeatable string option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A kind as users write it (`Api`, `api`, `apis`, `governance-rulesets`) → its Kind name (`Api`). */
export function kindOption(value: string): Kind {
  const v = value.toLowerCase();
  const kind = KINDS.find((k) => k.toLowerCase() === v || KIND_PLURALS[k] === v);
  if (kind === undefined) throw new InvalidArgumentError(`must be one of ${KINDS.join(', ')}.`);
  return kind;
}

/** A comma-separated list of kinds (`Team,Api`) → `Team,Api` with each name normalised. */
export function kindsOption(value: string): string {
  return value
    .split(',')
    .map((k) => kindOption(k.trim()))
    .join(',');
}

/** A date (`YYYY-MM-DD`) or an RFC 3339 timestamp. */
export function dateOption(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be a date (YYYY-MM-DD) or an RFC 3339 timestamp.');
  }
  return value;
}

/** A point in time: an RFC 3339 time, or an age ago (30m, 2h, 7d); as an ISO timestamp. */
export function sinceOption(value: string): string {
  const m = /^(\d+)(m|h|d)$/.exec(value);
  if (m) return new Date(Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be a time (2026-12-01T00:00:00Z) or an age like 30m, 2h, 7d.');
  return new Date(value).toISOString();
}
