import { describe, expect, it } from 'vitest';
import { findBreakingChanges } from '../src/breaking.js';
import { loadSpec } from '../src/load.js';
import type { OpenApiDocument } from '../src/types.js';
import { fixture } from './helpers.js';

async function payments(): Promise<OpenApiDocument> {
  return (await loadSpec(fixture('payments.openapi.yaml'))).document;
}

/** A deep copy of `doc`, edited by `edit` through a loosely typed view. */
function edited(doc: OpenApiDocument, edit: (d: Record<string, any>) => void): OpenApiDocument {
  const copy = structuredClone(doc) as Record<string, any>;
  edit(copy);
  return copy;
}

describe('findBreakingChanges on the payments example', () => {
  it('finds nothing between a document and itself', async () => {
    const doc = await payments();
    expect(findBreakingChanges(doc, doc)).toEqual([]);
  });

  it('reports a removed path', async () => {
    const before = await payments();
    const after = edited(before, (d) => delete d.paths['/invoices']);
    expect(findBreakingChanges(before, after)).toEqual([{ kind: 'path-removed', path: '/invoices', message: '/invoices: path removed (had GET)' }]);
  });

  it('reports a removed operation', async () => {
    const before = await payments();
    const after = edited(before, (d) => delete d.paths['/payments'].post);
    expect(findBreakingChanges(before, after)).toEqual([
      { kind: 'operation-removed', path: '/payments', method: 'POST', message: 'POST /payments: operation removed' },
    ]);
  });

  it('reports a removed 2xx response, but not a removed error response', async () => {
    const before = await payments();
    const after = edited(before, (d) => {
      d.paths['/payments'].post.responses['200'] = d.paths['/payments'].post.responses['201'];
      delete d.paths['/payments'].post.responses['201'];
      delete d.paths['/payments'].post.responses['400'];
    });
    expect(findBreakingChanges(before, after)).toEqual([
      { kind: 'response-removed', path: '/payments', method: 'POST', status: '201', message: 'POST /payments: response 201 removed' },
    ]);
  });

  it('reports a field removed from a response schema, following $refs into components', async () => {
    const before = await payments();
    const after = edited(before, (d) => delete d.components.schemas.Payment.properties.amount);
    expect(findBreakingChanges(before, after)).toEqual([
      {
        kind: 'response-field-removed',
        path: '/payments',
        method: 'GET',
        status: '200',
        field: 'data[].amount',
        message: "GET /payments: response 200 no longer has field 'data[].amount'",
      },
      {
        kind: 'response-field-removed',
        path: '/payments',
        method: 'POST',
        status: '201',
        field: 'amount',
        message: "POST /payments: response 201 no longer has field 'amount'",
      },
      {
        kind: 'response-field-removed',
        path: '/payments/{id}',
        method: 'GET',
        status: '200',
        field: 'amount',
        message: "GET /payments/{id}: response 200 no longer has field 'amount'",
      },
    ]);
  });

  it('does not report fields removed from request bodies or error responses (out of the basic check)', async () => {
    const before = await payments();
    const after = edited(before, (d) => {
      delete d.components.schemas.NewPayment.properties.description;
      delete d.components.schemas.Problem.properties.detail;
    });
    expect(findBreakingChanges(before, after)).toEqual([]);
  });

  it('treats a renamed path parameter as the same path, and additions as non-breaking', async () => {
    const before = await payments();
    const after = edited(before, (d) => {
      d.paths['/payments/{paymentId}'] = d.paths['/payments/{id}'];
      delete d.paths['/payments/{id}'];
      d.paths['/refunds'] = d.paths['/invoices'];
      d.components.schemas.Payment.properties.refunded = { type: 'boolean' };
    });
    expect(findBreakingChanges(before, after)).toEqual([]);
  });
});

describe('findBreakingChanges on nested, circular and Swagger 2.0 schemas', () => {
  const v3 = (schema: unknown, schemas: Record<string, unknown> = {}): OpenApiDocument => ({
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    paths: { '/orders': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema } } } } } } },
    components: { schemas },
  });

  it('names nested fields with dots and array items with []', () => {
    const before = v3({
      type: 'object',
      properties: { data: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, sku: { type: 'string' } } } } } } },
    });
    const after = structuredClone(before) as Record<string, any>;
    delete after.paths['/orders'].get.responses['200'].content['application/json'].schema.properties.data.properties.items.items.properties.id;
    expect(findBreakingChanges(before, after).map((c) => c.field)).toEqual(['data.items[].id']);
  });

  it('reports only the outermost removed field', () => {
    const before = v3({ type: 'object', properties: { customer: { type: 'object', properties: { id: {}, name: {} } }, total: {} } });
    const after = v3({ type: 'object', properties: { total: {} } });
    expect(findBreakingChanges(before, after).map((c) => c.field)).toEqual(['customer']);
  });

  it('terminates on circular schemas and still compares them', () => {
    const node = (withName: boolean): Record<string, unknown> => ({
      type: 'object',
      properties: { ...(withName ? { name: { type: 'string' } } : {}), children: { type: 'array', items: { $ref: '#/components/schemas/Node' } }, parent: { $ref: '#/components/schemas/Node' } },
    });
    const before = v3({ $ref: '#/components/schemas/Node' }, { Node: node(true) });
    const after = v3({ $ref: '#/components/schemas/Node' }, { Node: node(false) });
    expect(findBreakingChanges(before, before)).toEqual([]);
    expect(findBreakingChanges(before, after).map((c) => c.field)).toEqual(['name']);
  });

  it('merges allOf and follows internal $refs to responses', () => {
    const doc = (fields: string[]): OpenApiDocument => ({
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      paths: { '/a': { get: { responses: { '200': { $ref: '#/components/responses/Ok' } } } } },
      components: {
        responses: { Ok: { description: 'ok', content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Base' }, { properties: Object.fromEntries(fields.map((f) => [f, {}])) }] } } } } },
        schemas: { Base: { type: 'object', properties: { id: { type: 'string' } } } },
      },
    });
    expect(findBreakingChanges(doc(['a', 'b']), doc(['a'])).map((c) => c.message)).toEqual(["GET /a: response 200 no longer has field 'b'"]);
  });

  it('works on Swagger 2.0 response schemas (petstore-minimal)', async () => {
    const before = (await loadSpec(fixture('corpus/oai-examples__v2.0-petstore-minimal.json'))).document;
    expect(findBreakingChanges(before, before)).toEqual([]);
    const after = structuredClone(before) as Record<string, any>;
    delete after.definitions.Pet.properties.tag;
    expect(findBreakingChanges(before, after)).toEqual([
      { kind: 'response-field-removed', path: '/pets', method: 'GET', status: '200', field: '[].tag', message: "GET /pets: response 200 no longer has field '[].tag'" },
    ]);
  });
});

describe('findBreakingChanges on real version pairs (shared/specs/pairs)', () => {
  it('adyen BalanceControlService v1 -> v2: POST /balanceTransfer is gone (renamed to /balanceTransfers)', async () => {
    const before = await loadSpec(fixture('pairs/adyen-BalanceControlService-v1-v2/old.json'));
    const after = await loadSpec(fixture('pairs/adyen-BalanceControlService-v1-v2/new.json'));
    expect([before.version, after.version]).toEqual(['1', '2']);
    expect(findBreakingChanges(before.document, after.document)).toEqual([
      { kind: 'path-removed', path: '/balanceTransfer', message: '/balanceTransfer: path removed (had POST)' },
    ]);
    // NOTES.md also lists fields dropped from BalanceTransferRequest/Response: in v2 those schemas only serve the
    // new POST /balanceTransfers, so to an existing client they are covered by the removed path.
  });

  it('openai 2023-06 "remove deprecated endpoints": the five removed operations (1.3.1 -> 2.0.0)', async () => {
    const before = await loadSpec(fixture('pairs/openai-2023-06-remove-deprecated/old.yaml'));
    const after = await loadSpec(fixture('pairs/openai-2023-06-remove-deprecated/new.yaml'));
    expect([before.version, after.version]).toEqual(['1.3.1', '2.0.0']);
    const changes = findBreakingChanges(before.document, after.document);
    expect(changes.every((c) => c.kind === 'path-removed')).toBe(true);
    expect(changes.map((c) => c.message).sort()).toEqual([
      '/answers: path removed (had POST)',
      '/classifications: path removed (had POST)',
      '/engines/{engine_id}/search: path removed (had POST)',
      '/engines/{engine_id}: path removed (had GET)',
      '/engines: path removed (had GET)',
    ]);
    expect(findBreakingChanges(after.document, before.document)).toEqual([]); // nothing was added that could be "removed" back
  });
});
