// Lint findings as the CLI shows them: one table row per finding (severity, line:col, rule, message,
// path) and the per-severity counts used in summaries.
import type { Finding } from './api.js';
import { renderTable } from './output.js';

const SEVERITY_ORDER: Record<string, number> = { error: 0, warn: 1, info: 2, hint: 3 };

function position(f: Finding): string {
  if (f.line === undefined) return '-';
  return f.column === undefined ? `${f.line}` : `${f.line}:${f.column}`;
}

/** Findings ordered by severity (errors first), then line. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) || (a.line ?? 0) - (b.line ?? 0));
}

export function findingsTable(findings: readonly Finding[]): string {
  return renderTable(
    ['severity', 'line:col', 'rule', 'message', 'path'],
    sortFindings(findings).map((f) => [f.severity, position(f), f.rule, f.message, f.path]),
  );
}

export interface FindingCounts {
  error: number;
  warn: number;
  info: number;
  hint: number;
}

export function countFindings(findings: readonly Finding[]): FindingCounts {
  const counts: FindingCounts = { error: 0, warn: 0, info: 0, hint: 0 };
  for (const f of findings) if (f.severity in counts) counts[f.severity] += 1;
  return counts;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** e.g. `2 errors, 1 warning` (infos and hints only when present). */
export function describeCounts(c: FindingCounts): string {
  const parts = [plural(c.error, 'error'), plural(c.warn, 'warning')];
  if (c.info > 0) parts.push(plural(c.info, 'info'));
  if (c.hint > 0) parts.push(plural(c.hint, 'hint'));
  return parts.join(', ');
}
