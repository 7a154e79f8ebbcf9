// The diff engine on real documents: the version pairs of test/fixtures/pairs give what their NOTES.md describe, and
// every corpus document diffed against itself, or against a copy with every component renamed, gives no change.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffOpenApi, type Change } from '../src/diff/diff.js';
import { isRecord } from '../src/json-path.js';
import { loadSpec } from '../src/load.js';
import type { OpenApiDocument } from '../src/types.js';
import { fixture, fixturesDir } from './helpers.js';

async function load(path: string): Promise<OpenApiDocument> {
  return (await loadSpec(fixture(path))).document;
}

function ids(changes: Change[], level?: string): string[] {
  return changes.filter((c) => level === undefined || c.level === level).map((c) => `${c.id} ${c.operation ?? '-'}`).sort();
}

const REF_SECTIONS_3 = ['schemas', 'parameters', 'responses', 'requestBodies', 'headers', 'examples', 'links', 'callbacks', 'pathItems'];
const REF_SECTIONS_2 = ['definitions', 'parameters', 'responses'];

function escape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A copy of `doc` where every $ref-able component has a new name and every $ref follows it. */
function withComponentsRenamed(doc: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(doc) as Record<string, unknown>;
  const renames = new Map<string, string>();
  const rename = (holder: Record<string, unknown>, section: string, prefix: string) => {
    const names = holder[section];
    if (!isRecord(names)) return;
    const next: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(names)) {
      next[`${name}Renamed`] = value;
      renames.set(`${prefix}/${escape(name)}`, `${prefix}/${escape(`${name}Renamed`)}`);
    }
    holder[section] = next;
  };
  if (copy.swagger !== undefined) for (const s of REF_SECTIONS_2) rename(copy, s, `#/${s}`);
  else if (isRecord(copy.components)) for (const s of REF_SECTIONS_3) rename(copy.components, s, `#/components/${s}`);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isRecord(node)) {
      if (typeof node.$ref === 'string') {
        const ref = node.$ref;
        for (const [from, to] of renames) {
          if (ref === from || ref.startsWith(`${from}/`)) {
            node.$ref = to + ref.slice(from.length);
            break;
          }
        }
      }
      for (const v of Object.values(node)) walk(v);
    }
  };
  walk(copy);
  return copy;
}

describe('the diff engine on the real version pairs', () => {
  it('twilio-events-v1: the SinkSid request property of POST /v1/Subscriptions/{Sid} removed, and nothing else', async () => {
    const changes = diffOpenApi(await load('pairs/twilio-events-v1/old.json'), await load('pairs/twilio-events-v1/new.json'));
    expect(ids(changes)).toEqual(['request-property-removed POST /v1/Subscriptions/{Sid}']);
    expect(changes[0].text).toBe("POST /v1/Subscriptions/{Sid}: request property 'SinkSid' (application/x-www-form-urlencoded) removed");
    // no additionalProperties: false, so the server may ignore it rather than refuse it: a warning, which a ruleset can raise
    expect(changes[0].level).toBe('warning');
    expect(changes[0].migration).toMatch(/Stop sending 'SinkSid'/);
  });

  it('openai-2023-06-remove-deprecated: five operations and eight schemas removed, nothing added', async () => {
    const changes = diffOpenApi(await load('pairs/openai-2023-06-remove-deprecated/old.yaml'), await load('pairs/openai-2023-06-remove-deprecated/new.yaml'));
    expect(ids(changes, 'breaking')).toEqual(
      ['POST /answers', 'POST /classifications', 'GET /engines', 'GET /engines/{engine_id}', 'POST /engines/{engine_id}/search'].map((op) => `operation-removed ${op}`).sort(),
    );
    const schemas = changes.filter((c) => c.id === 'component-schema-removed').map((c) => c.text.replace(/^schema (\S+) .*$/, '$1')).sort();
    expect(schemas).toEqual(['CreateAnswerRequest', 'CreateAnswerResponse', 'CreateClassificationRequest', 'CreateClassificationResponse', 'CreateSearchRequest', 'CreateSearchResponse', 'Engine', 'ListEnginesResponse']);
    expect(changes.filter((c) => c.id.endsWith('-added'))).toEqual([]);
    expect(changes).toHaveLength(13);
  });

  it('adyen-BalanceControlService-v1-v2: POST /balanceTransfer removed (renamed), three operations added, response and request properties dropped', async () => {
    const changes = diffOpenApi(await load('pairs/adyen-BalanceControlService-v1-v2/old.json'), await load('pairs/adyen-BalanceControlService-v1-v2/new.json'));
    expect(ids(changes, 'breaking')).toEqual(['operation-removed POST /balanceTransfer']);
    expect(ids(changes.filter((c) => c.id === 'operation-added'))).toEqual(
      ['GET /balanceOverview/companies/{companyAccountCode}/balances', 'GET /balanceOverview/merchants/{merchantAccountCode}/balances', 'POST /balanceTransfers'].map((op) => `operation-added ${op}`).sort(),
    );
    const dropped = changes.filter((c) => c.id === 'component-schema-changed' && c.text.endsWith('removed')).map((c) => c.text);
    expect(dropped).toContain("schema BalanceTransferRequest: property 'description' removed");
    for (const p of ['amount', 'description', 'fromMerchant', 'reference', 'status', 'toMerchant', 'type']) expect(dropped).toContain(`schema BalanceTransferResponse: property '${p}' removed`);
    expect(changes.find((c) => c.id === 'operation-removed')!.base).toBe('/paths/~1balanceTransfer/post');
  });
});

describe('the diff engine on the real-world corpus', () => {
  const files = readdirSync(join(fixturesDir, 'corpus')).sort();

  it('has every document of the shared corpus', () => {
    expect(files).toHaveLength(26);
  });

  for (const file of files) {
    it(`${file}: no change against itself, nor against a copy with every component renamed`, async () => {
      const doc = await load(`corpus/${file}`);
      const again = await load(`corpus/${file}`);
      expect(diffOpenApi(doc, again)).toEqual([]);
      const renamed = withComponentsRenamed(again);
      // documents without components (three of them) have nothing to rename
      const sections = doc.swagger !== undefined ? REF_SECTIONS_2.map((k) => doc[k]) : REF_SECTIONS_3.map((k) => (isRecord(doc.components) ? doc.components[k] : undefined));
      if (sections.some((x) => isRecord(x) && Object.keys(x).length > 0)) expect(JSON.stringify(renamed)).not.toBe(JSON.stringify(doc));
      expect(diffOpenApi(doc, renamed).map((c) => c.text)).toEqual([]);
    });
  }
});

describe('the diff engine on awkward input', () => {
  it('does not hang or crash on a schema that refers to itself through allOf, items and additionalProperties', () => {
    const doc = (extra: Record<string, unknown>) => ({
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      paths: { '/x': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Loop' } } } } } } } },
      components: { schemas: { Loop: { allOf: [{ $ref: '#/components/schemas/Loop' }], type: 'object', properties: { self: { $ref: '#/components/schemas/Loop' }, list: { type: 'array', items: { $ref: '#/components/schemas/Loop' } }, ...extra }, additionalProperties: { $ref: '#/components/schemas/Loop' } } } },
    });
    expect(diffOpenApi(doc({}), doc({}))).toEqual([]);
    expect(ids(diffOpenApi(doc({ gone: { type: 'string' } }), doc({})))).toEqual(['response-property-removed GET /x']);
  });

  it('gives each change JSON pointers into both documents and a fingerprint that survives a component rename', async () => {
    const base = await load('payments.openapi.yaml');
    const edit = structuredClone(base) as Record<string, any>;
    edit.paths['/payments'].get.parameters = [...(edit.paths['/payments'].get.parameters ?? []), { name: 'status', in: 'query', required: true, schema: { type: 'string' } }];
    const first = diffOpenApi(base, edit);
    const second = diffOpenApi(base, withComponentsRenamed(edit));
    expect(first.map((c) => c.fingerprint)).toEqual(second.map((c) => c.fingerprint));
    const added = first.find((c) => c.id === 'request-parameter-added-required')!;
    expect(added).toMatchObject({ level: 'breaking', operation: 'GET /payments', base: '/paths/~1payments/get', location: '/parameters/query/status' });
    expect(added.revision).toMatch(/^\/paths\/~1payments\/get\/parameters\/\d+$/);
    expect(added.migration).toBe("Send the query parameter 'status' in every request.");
  });
});
