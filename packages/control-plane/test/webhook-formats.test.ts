// Golden files for the webhook formats: testdata/webhook-formats/<case>.in.yaml ({spec, event}) beside
// <case>.out.yaml (what the receiver gets: content type and body, or the e-mail). UPDATE_GOLDEN=1 rewrites the
// outputs; a missing output fails.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseSpec } from '@apigov/model';
import { renderEmail, renderHttp, type Envelope } from '../src/webhooks/formats.js';

const DIR = join(import.meta.dirname, 'testdata', 'webhook-formats');

describe('webhook formats golden files', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'))) {
    it(file.replace('.in.yaml', ''), () => {
      const input = parse(readFileSync(join(DIR, file), 'utf8')) as { spec: unknown; event: Envelope };
      const spec = parseSpec('Webhook', input.spec);
      const out = spec.format === 'email' ? { email: renderEmail(input.event) } : (() => {
        const r = renderHttp(spec, input.event);
        return { contentType: r.contentType, body: JSON.parse(r.body) as unknown };
      })();
      const text = stringify(out, { lineWidth: 0 });
      const golden = join(DIR, file.replace('.in.yaml', '.out.yaml'));
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
      expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
