// The golden-file runner of every exporter: testdata/<target>/<case>.in.yaml (apigov resources, multi-document YAML)
// → <case>.out.yaml (what the exporter writes). UPDATE_GOLDEN=1 rewrites the outputs; a missing golden fails. A case
// whose input starts with `# options: {json}` is exported with those options (the query parameters of the export).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { parseResource, type AnyResource } from '@apigov/model';
import type { ExportResult } from '../src/index.js';

export const TESTDATA = join(import.meta.dirname, 'testdata');

export function readResources(file: string): AnyResource[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => parseResource(d.toJS()) as AnyResource);
}

/** What a golden holds: the documents, then the warnings as a trailing comment block. */
export function render(result: ExportResult): string {
  const docs = result.documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  const warnings = result.warnings.map((w) => `# warning: ${w.resource} ${w.what}: ${w.message}\n`).join('');
  return docs + warnings;
}

/** the `# options: {…}` line a case's input may start with */
export function caseOptions(file: string): Record<string, string> {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0]!;
  return first.startsWith('# options: ') ? (JSON.parse(first.slice('# options: '.length)) as Record<string, string>) : {};
}

/** One test per case of a target; returns the case names. */
export function goldenCases(target: string, exporter: (resources: AnyResource[], options: Record<string, string>) => ExportResult): string[] {
  const dir = join(TESTDATA, target);
  const cases = readdirSync(dir).filter((f) => f.endsWith('.in.yaml')).map((f) => f.replace(/\.in\.yaml$/, ''));
  for (const name of cases) {
    it(`${target}/${name}`, () => {
      const input = join(dir, `${name}.in.yaml`);
      const out = render(exporter(readResources(input), caseOptions(input)));
      const golden = join(dir, `${name}.out.yaml`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, out);
      expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(out).toBe(readFileSync(golden, 'utf8'));
    });
  }
  return cases;
}
