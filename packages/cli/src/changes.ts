// How the CLI shows the diff engine's changes: a table (level, operation, rule, what changed), or lines with each
// change's migration note and the consumers it affects (under a refusal, a registration or a breaking check).
import type { ApiChange } from './api.js';
import { renderTable } from './output.js';

export function changesTable(changes: readonly ApiChange[]): string {
  if (changes.length === 0) return 'No changes.\n';
  return renderTable(
    ['level', 'operation', 'rule', 'change', 'fingerprint'],
    changes.map((c) => [c.level, c.operation ?? '-', c.id, c.operation !== undefined && c.text.startsWith(`${c.operation}: `) ? c.text.slice(c.operation.length + 2) : c.text, c.fingerprint]),
  );
}

function affects(c: ApiChange): string | undefined {
  const list = (c.affectedConsumers ?? []).filter((a) => a.subscribed || a.requests > 0);
  if (list.length === 0) return undefined;
  return list.map((a) => `${a.application}${a.team ? ` (${a.team})` : ''}: ${a.requests} call${a.requests === 1 ? '' : 's'} in 30 days${a.subscribed ? `, subscribed in ${a.environments.join(', ')}` : ''}`).join('; ');
}

/** One line per change, then its migration note and who it affects, indented. */
export function changeLines(changes: readonly ApiChange[]): string {
  return changes
    .map((c) => {
      const lines = [`  - [${c.level}] ${c.text}  (${c.id}, ${c.fingerprint})`, `      migration: ${c.migration}`];
      const who = affects(c);
      if (who !== undefined) lines.push(`      affects: ${who}`);
      return lines.join('\n') + '\n';
    })
    .join('');
}

export function summaryText(s: { breaking: number; warning: number; info: number }): string {
  return `${s.breaking} breaking, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.info} other`;
}
