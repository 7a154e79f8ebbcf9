// What the CLI prints: aligned plain-text tables and field lists, JSON and YAML renderings of API data,
// and the two streams they go to (results on stdout, the one-line error on stderr).
import YAML from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | boolean | undefined | null;

function cellText(c: Cell): string {
  if (c === undefined || c === null) return '-';
  return String(c).replace(/\s*\n\s*/g, ' ').trim();
}

/** Columns separated by two spaces, padded to the widest cell; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const text = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => headers.map((_, i) => cellText(r[i])))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => r[i].length)));
  return text.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `label:  value` lines with the values aligned. */
export function renderFields(fields: ReadonlyArray<readonly [string, Cell]>): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${cellText(value)}`).join('\n') + '\n';
}

export function renderData(format: 'json' | 'yaml', data: unknown): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  return YAML.stringify(data, { lineWidth: 0 });
}

export function writeOut(text: string): void {
  process.stdout.write(text);
}

export function writeErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Prints `data` as JSON/YAML, or the table text built by `table` for the table format. */
export function emit(format: OutputFormat, data: unknown, table: () => string): void {
  writeOut(format === 'table' ? table() : renderData(format, data));
}
