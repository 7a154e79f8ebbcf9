// Changelogs from the diff engine's changes: grouped by operation (those with a breaking change first), each change with
// its migration note and, when known, the consumers it affects; rendered as Markdown or self-contained HTML.
import type { Change } from './diff.js';
import type { ChangeLevel } from './rules.js';

/** A consumer a change affects, as the control plane reports it. */
export interface ChangelogConsumer {
  application: string;
  team?: string;
  environments: string[];
  subscribed: boolean;
  requests: number;
}

export type ChangelogChange = Change & { affectedConsumers?: ChangelogConsumer[]; waived?: { reason: string; expires: string } };

export interface ChangelogGroup {
  /** `GET /payments`, or undefined for document-wide changes */
  operation?: string;
  changes: ChangelogChange[];
}

export interface Changelog {
  title: string;
  from: string;
  to: string;
  summary: Record<ChangeLevel, number>;
  groups: ChangelogGroup[];
}

const rank: Record<ChangeLevel, number> = { breaking: 0, warning: 1, info: 2 };

/** How many changes there are of each level. */
export function summarizeChanges(changes: ReadonlyArray<Pick<Change, 'level'>>): Record<ChangeLevel, number> {
  const summary: Record<ChangeLevel, number> = { breaking: 0, warning: 0, info: 0 };
  for (const c of changes) summary[c.level]++;
  return summary;
}

/** A change's text without its `METHOD /path: ` prefix, for where the operation is shown beside it. */
export function changeTextInOperation(c: Pick<Change, 'text' | 'operation'>): string {
  return c.operation !== undefined && c.text.startsWith(`${c.operation}: `) ? c.text.slice(c.operation.length + 2) : c.text;
}

/** `bob-app (orders): 3 calls in 30 days, subscribed in dev; …`, or undefined when no consumer is affected. */
export function affectedConsumersText(c: ChangelogChange): string | undefined {
  const list = (c.affectedConsumers ?? []).filter((a) => a.subscribed || a.requests > 0);
  if (list.length === 0) return undefined;
  return list.map((a) => `${a.application}${a.team ? ` (${a.team})` : ''}: ${a.requests} call${a.requests === 1 ? '' : 's'} in 30 days${a.subscribed ? `, subscribed in ${a.environments.join(', ')}` : ''}`).join('; ');
}

/** Groups changes by operation: operations with the most severe change first, then in the order they came. */
export function changelogOf(title: string, from: string, to: string, changes: ChangelogChange[]): Changelog {
  const summary = summarizeChanges(changes);
  const groups = new Map<string, ChangelogGroup>();
  for (const c of changes) {
    const key = c.operation ?? '';
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { ...(c.operation !== undefined && { operation: c.operation }), changes: [] }));
    g.changes.push(c);
  }
  const ordered = [...groups.values()].map((g, i) => ({ g, i, worst: Math.min(...g.changes.map((c) => rank[c.level])) }));
  ordered.sort((a, b) => a.worst - b.worst || a.i - b.i);
  for (const { g } of ordered) g.changes.sort((a, b) => rank[a.level] - rank[b.level]);
  return { title, from, to, summary, groups: ordered.map((o) => o.g) };
}

function mdEscape(s: string): string {
  return s.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

export function changelogMarkdown(log: Changelog): string {
  const lines = [`# ${mdEscape(log.title)}: ${mdEscape(log.from)} → ${mdEscape(log.to)}`, ''];
  lines.push(`${log.summary.breaking} breaking, ${log.summary.warning} warning${log.summary.warning === 1 ? '' : 's'}, ${log.summary.info} other change${log.summary.info === 1 ? '' : 's'}.`, '');
  if (log.groups.length === 0) lines.push('No changes.', '');
  for (const g of log.groups) {
    lines.push(`## ${g.operation === undefined ? 'The whole API' : `\`${g.operation}\``}`, '');
    for (const c of g.changes) {
      const text = changeTextInOperation(c);
      lines.push(`- **${c.level}** ${mdEscape(text)} (\`${c.id}\`, fingerprint \`${c.fingerprint}\`)${c.waived ? ` — waived until ${c.waived.expires}: ${mdEscape(c.waived.reason)}` : ''}`);
      lines.push(`  - Migration: ${mdEscape(c.migration)}`);
      const consumers = affectedConsumersText(c);
      if (consumers !== undefined) lines.push(`  - Affects: ${mdEscape(consumers)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function changelogHtml(log: Changelog): string {
  const parts = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${h(log.title)}: ${h(log.from)} → ${h(log.to)}</title>`,
    '<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}code{font-size:90%}.breaking{color:#a40e26}.warning{color:#7a4d00}.info{color:#475467}li{margin:.4rem 0}.note{color:#475467}</style>',
    '</head><body>',
    `<h1>${h(log.title)}: ${h(log.from)} → ${h(log.to)}</h1>`,
    `<p>${log.summary.breaking} breaking, ${log.summary.warning} warnings, ${log.summary.info} other changes.</p>`,
  ];
  if (log.groups.length === 0) parts.push('<p>No changes.</p>');
  for (const g of log.groups) {
    parts.push(`<h2>${g.operation === undefined ? 'The whole API' : `<code>${h(g.operation)}</code>`}</h2><ul>`);
    for (const c of g.changes) {
      const text = changeTextInOperation(c);
      const consumers = affectedConsumersText(c);
      parts.push(
        `<li><strong class="${c.level}">${c.level}</strong> ${h(text)} <code>${h(c.id)}</code>${c.waived ? ` <em>waived until ${h(c.waived.expires)}</em>` : ''}<br><span class="note">Migration: ${h(c.migration)}</span>${consumers === undefined ? '' : `<br><span class="note">Affects: ${h(consumers)}</span>`}</li>`,
      );
    }
    parts.push('</ul>');
  }
  parts.push('</body></html>', '');
  return parts.join('\n');
}
