// Golden files for the snapshot compiler: testdata/snapshot/<case>.in.yaml (an {environment, now} header
// document, then resources) beside <case>.out.yaml. UPDATE_GOLDEN=1 rewrites the outputs.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { parseResource, sortKeys, type AnyResource } from '@apigov/model';
import { compileSnapshot, snapshotHash, type Named } from '../src/snapshot/compile.js';

const DIR = join(import.meta.dirname, 'testdata', 'snapshot');

function named<K extends AnyResource['kind']>(rs: AnyResource[], kind: K) {
  return rs.filter((r) => r.kind === kind).map((r) => ({ name: r.metadata.name, spec: r.spec })) as Named<Extract<AnyResource, { kind: K }>['spec']>[];
}

describe('snapshot compiler golden files', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'))) {
    it(file.replace('.in.yaml', ''), () => {
      const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS());
      const header = docs[0] as { environment: string; now: string };
      const resources = docs.slice(1).map((d, i) => parseResource(d, `documents[${i + 1}]`));
      const content = compileSnapshot({
        environment: header.environment,
        now: new Date(header.now),
        apis: named(resources, 'Api'),
        policies: named(resources, 'Policy'),
        plans: named(resources, 'Plan'),
        applications: named(resources, 'Application'),
        subscriptions: named(resources, 'Subscription'),
        credentials: named(resources, 'Credential'),
      });
      const out = `# hash ${snapshotHash(content)}\n` + stringify(sortKeys(content), { lineWidth: 0 });
      const golden = join(DIR, file.replace('.in.yaml', '.out.yaml'));
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, out);
      expect(out).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
