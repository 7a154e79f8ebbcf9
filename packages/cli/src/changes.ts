// How the CLI shows the diff engine's changes: a table (level, operation, rule, what changed), or lines with each
// change's migration note and the consumers it affects (under a refusal, a registration or a breaking check).
// the changelog module alone: the CLI does not load the linter for commands that only print changes
import { affectedConsumersText, changeTextInOperation } from '@apigov/openapi/changelog';
import type { ApiChange } from './api.js';
import { renderTable } from './output.js';

export function changesTable(changes: readonly ApiChange[]): string {
  if (changes.length === 0) return 'No changes.\n';
  return renderTable(
    ['level', 'operation', 'rule', 'change', 'fingerprint'],
    changes.map((c) => [c.level, c.operation ?? '-', c.id, changeTextInOperation(c), c.fingerprint]),
  );
}

/** One line per change, then its migration note and who it affects, indented. */
export function changeLines(changes: readonly ApiChange[]): string {
  return changes
    .map((c) => {
      const lines = [`  - [${c.level}] ${c.text}  (${c.id}, ${c.fingerprint})`, `      migration: ${c.migration}`];
      const who = affectedConsumersText(c);
      if (who !== undefined) lines.push(`      affects: ${who}`);
      return lines.join('\n') + '\n';
    })
    .join('');
}

export function summaryText(s: { breaking: number; warning: number; info: number }): string {
  return `${s.breaking} breaking, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.info} other`;
}
