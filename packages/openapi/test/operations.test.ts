import { describe, expect, it } from 'vitest';
import { loadSpec } from '../src/load.js';
import { listOperations } from '../src/operations.js';
import { majorOf } from '../src/version.js';
import { fixture } from './helpers.js';

describe('listOperations', () => {
  it('lists the payments example in document order', async () => {
    const { document } = await loadSpec(fixture('payments.openapi.yaml'));
    expect(listOperations(document)).toEqual([
      { method: 'GET', path: '/payments', operationId: 'listPayments', summary: 'List payments', tags: ['payments'] },
      { method: 'POST', path: '/payments', operationId: 'createPayment', summary: 'Create a payment', tags: ['payments'] },
      { method: 'GET', path: '/payments/{id}', operationId: 'getPayment', summary: 'Get a payment', tags: ['payments'] },
      { method: 'GET', path: '/invoices', operationId: 'listInvoices', summary: 'List invoices', tags: ['invoices'] },
      { method: 'GET', path: '/health', operationId: 'getHealth', summary: 'Check health', tags: ['health'] },
    ]);
  });

  it('leaves out operationId and summary when absent, and gives [] for no tags', async () => {
    const { document } = await loadSpec(fixture('corpus/oai-examples__v3.0-api-with-examples.yaml'));
    expect(listOperations(document)).toEqual([
      { method: 'GET', path: '/', operationId: 'listVersionsv2', summary: 'List API versions', tags: [] },
      { method: 'GET', path: '/v2', operationId: 'getVersionDetailsv2', summary: 'Show API version details', tags: [] },
    ]);
    const uber = await loadSpec(fixture('corpus/oai-examples__v2.0-uber.json'));
    expect(listOperations(uber.document)[0]).toEqual({ method: 'GET', path: '/products', summary: 'Product Types', tags: ['Products'] });
  });

  it('follows internal $refs on path items and ignores non-operation keys', () => {
    const ops = listOperations({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/a': { $ref: '#/components/pathItems/A' },
        '/b': { parameters: [], summary: 'not an op', 'x-internal': true, delete: { operationId: 'delB' } },
      },
      components: { pathItems: { A: { get: { operationId: 'getA', tags: ['a', 7] } } } },
      webhooks: { newPet: { post: { operationId: 'hook' } } },
    });
    expect(ops).toEqual([
      { method: 'GET', path: '/a', operationId: 'getA', tags: ['a'] },
      { method: 'DELETE', path: '/b', operationId: 'delB', tags: [] },
    ]);
  });
});

describe('majorOf', () => {
  it.each([
    ['1.2.3', 1],
    ['v2', 2],
    ['V3.0', 3],
    ['2', 2],
    ['0.9.1', 0],
    ['2.0.0-beta.1', 2],
    ['1.0.27-SNAPSHOT', 1],
    [' 4.1 ', 4],
    ['10.0', 10],
  ] as const)('%s -> %s', (version, major) => {
    expect(majorOf(version)).toBe(major);
  });

  it.each(['abc', '', 'v', 'latest', 'x1.0', '1 2', '1a'])('%j -> undefined', (version) => {
    expect(majorOf(version)).toBeUndefined();
  });
});
