import { describe, expect, it } from 'vitest';
import { lintSpec } from '../src/lint.js';
import { loadSpec } from '../src/load.js';
import { listOperations } from '../src/operations.js';
import { dig, expectApigovError, fixture, fixtureFiles, refsIn } from './helpers.js';

// file, format, paths and operations as listed in shared/specs/MANIFEST.tsv
const corpus: [string, '2.0' | '3.0' | '3.1', number, number][] = [
  ['adyen__BalancePlatformBalanceNotification-v1.json', '3.1', 0, 0],
  ['apis-guru__apis.guru-2.2.0.yaml', '3.0', 7, 7],
  ['box__openapi-v2026.0.json', '3.0', 3, 3],
  ['oai-examples__v2.0-petstore-minimal.json', '2.0', 1, 1],
  ['oai-examples__v2.0-uber.json', '2.0', 5, 5],
  ['oai-examples__v3.0-api-with-examples.yaml', '3.0', 2, 2],
  ['oai-examples__v3.0-callback-example.yaml', '3.0', 1, 1],
  ['oai-examples__v3.0-petstore-expanded.yaml', '3.0', 2, 4],
  ['oai-examples__v3.0-petstore.yaml', '3.0', 2, 3],
  ['oai-examples__v3.0-uspto.yaml', '3.0', 3, 3],
  ['oai-examples__v3.1-non-oauth-scopes.yaml', '3.1', 1, 1],
  ['oai-examples__v3.1-webhook-example.yaml', '3.1', 0, 0],
  ['openai__openapi-2024-04-23-dup-anchors.yaml', '3.0', 44, 63],
  ['openai__openapi-2026-08-21.yaml', '3.1', 182, 288],
  ['readme-oas-examples__2.0-schema-circular.yaml', '2.0', 1, 1],
  ['readme-oas-examples__3.0-callbacks.yaml', '3.0', 1, 1],
  ['readme-oas-examples__3.0-polymorphism.yaml', '3.0', 13, 13],
  ['readme-oas-examples__3.0-schema-circular.yaml', '3.0', 3, 3],
  ['readme-oas-examples__3.1-schema-types.yaml', '3.1', 13, 23],
  ['readme-oas-examples__3.1-webhooks.yaml', '3.1', 0, 0],
  ['swagger-petstore__petstore3-openapi.yaml', '3.0', 13, 19],
];

describe('loadSpec on the real-world corpus', () => {
  it.each(corpus)('%s loads as OpenAPI %s with its paths and operations', async (file, format, paths, operations) => {
    const text = fixture(`corpus/${file}`);
    const spec = await loadSpec(text);
    expect(spec.format).toBe(format);
    expect(spec.text).toBe(text);
    expect(spec.title.length).toBeGreaterThan(0);
    expect(spec.version.length).toBeGreaterThan(0);
    expect(Object.keys((spec.document.paths as object | undefined) ?? {})).toHaveLength(paths);
    expect(listOperations(spec.document)).toHaveLength(operations);
    expect(refsIn(spec.document).every((r) => r.startsWith('#'))).toBe(true);
    expect(() => JSON.stringify(spec.document)).not.toThrow();
  });

  it('reads title and info.version', async () => {
    const spec = await loadSpec(fixture('corpus/swagger-petstore__petstore3-openapi.yaml'));
    expect(spec.title).toBe('Swagger Petstore - OpenAPI 3.0');
    expect(spec.version).toBe('1.0.27-SNAPSHOT');
    const uber = await loadSpec(fixture('corpus/oai-examples__v2.0-uber.json'));
    expect(uber).toMatchObject({ format: '2.0', title: 'Uber API', version: '1.0.0' });
  });

  it('accepts YAML that repeats anchor names (openai 2024-04-23)', async () => {
    const spec = await loadSpec(fixture('corpus/openai__openapi-2024-04-23-dup-anchors.yaml'));
    expect(spec.format).toBe('3.0');
    expect(spec.title).toBe('OpenAI API');
  });

  it('accepts YAML merge keys', async () => {
    const spec = await loadSpec(
      [
        'openapi: 3.0.3',
        'info: {title: Merge, version: "1"}',
        'x-defaults: &defaults',
        '  description: shared',
        '  responses: {"200": {description: ok}}',
        'paths:',
        '  /a:',
        '    get:',
        '      <<: *defaults',
        '      operationId: getA',
      ].join('\n'),
    );
    const op = listOperations(spec.document)[0];
    expect(op).toMatchObject({ method: 'GET', path: '/a', operationId: 'getA' });
    expect(dig(spec.document, 'paths', '/a', 'get', 'description')).toBe('shared');
  });

  it.each([
    'readme-oas-examples__2.0-schema-circular.yaml',
    'readme-oas-examples__3.0-schema-circular.yaml',
    'readme-oas-examples__3.1-schema-types.yaml',
  ])('keeps the circular $refs of %s as internal refs, and the result serialises', async (file) => {
    const spec = await loadSpec(fixture(`corpus/${file}`));
    const json = JSON.stringify(spec.document);
    expect(JSON.parse(json)).toEqual(spec.document);
    expect(refsIn(spec.document).length).toBeGreaterThan(0);
    expect(refsIn(spec.document).every((r) => r.startsWith('#/'))).toBe(true);
  });
});

describe('loadSpec on a multi-file bundle', () => {
  it('bundles the OAI petstore-separate Swagger 2.0 example: no external refs left', async () => {
    const files = fixtureFiles('multifile/petstore-separate');
    expect(Object.keys(files).sort()).toEqual(['common/Error.yaml', 'spec/NewPet.yaml', 'spec/Pet.yaml', 'spec/parameters.yaml', 'spec/swagger.yaml']);
    const spec = await loadSpec({ entry: 'spec/swagger.yaml', files });
    expect(spec).toMatchObject({ format: '2.0', title: 'Swagger Petstore', version: '1.0.0' });
    expect(spec.text).toBe(files['spec/swagger.yaml']);
    const refs = refsIn(spec.document);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !r.startsWith('#/'))).toEqual([]);
    const json = JSON.stringify(spec.document);
    expect(json).not.toMatch(/\.yaml/);
    // the inlined content is there: parameters from parameters.yaml, the Pet schema, the Error schema
    expect(dig(spec.document, 'paths', '/pets', 'get', 'parameters')).toEqual([
      expect.objectContaining({ name: 'tags', in: 'query', type: 'array' }),
      expect.objectContaining({ name: 'limit', in: 'query', type: 'integer' }),
    ]);
    expect(dig(spec.document, 'paths', '/pets', 'get', 'responses', '200', 'schema', 'items')).toMatchObject({ type: 'object', required: ['id', 'name'] });
    expect(json).toContain('"format":"int32"'); // Error.code from ../common/Error.yaml
    // every internal ref resolves in the bundled document
    for (const ref of refs) {
      const tokens = ref.slice(2).split('/').map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
      expect(dig(spec.document, ...tokens), ref).toBeTypeOf('object');
    }
    expect(listOperations(spec.document).map((o) => `${o.method} ${o.path}`)).toEqual([
      'GET /pets',
      'POST /pets',
      'GET /pets/{id}',
      'DELETE /pets/{id}',
    ]);
  });

  it('inlines cross-file cycles once and refers back to them', async () => {
    const spec = await loadSpec({
      entry: 'api/openapi.yaml',
      files: {
        'api/openapi.yaml': [
          'openapi: 3.0.3',
          'info: {title: Pets, version: 1.0.0}',
          'paths:',
          '  /pets:',
          '    get:',
          '      responses:',
          '        "200":',
          '          description: ok',
          '          content:',
          '            application/json:',
          '              schema: {$ref: "./schemas/pet.yaml#/Pet"}',
          'components:',
          '  schemas:',
          '    Local: {type: string}',
        ].join('\n'),
        'api/schemas/pet.yaml': [
          'Pet:',
          '  type: object',
          '  properties:',
          '    owner: {$ref: "../common.yaml#/Owner"}',
          '    friends: {type: array, items: {$ref: "#/Pet"}}',
          '    kind: {$ref: "../openapi.yaml#/components/schemas/Local"}',
        ].join('\n'),
        'api/common.yaml': 'Owner:\n  type: object\n  properties:\n    pets: {type: array, items: {$ref: "schemas/pet.yaml#/Pet"}}\n',
      },
    });
    const petRef = '#/paths/~1pets/get/responses/200/content/application~1json/schema';
    const pet = dig(spec.document, 'paths', '/pets', 'get', 'responses', '200', 'content', 'application/json', 'schema');
    expect(dig(pet, 'properties', 'friends', 'items')).toEqual({ $ref: petRef });
    expect(dig(pet, 'properties', 'owner', 'properties', 'pets', 'items')).toEqual({ $ref: petRef });
    expect(dig(pet, 'properties', 'kind')).toEqual({ $ref: '#/components/schemas/Local' });
    expect(() => JSON.stringify(spec.document)).not.toThrow();
  });

  it('writes refs to templated paths as valid JSON Pointers that Spectral resolves', async () => {
    const spec = await loadSpec({
      entry: 'openapi.yaml',
      files: {
        'openapi.yaml': [
          'openapi: 3.1.0',
          'info: {title: t, version: "1"}',
          'paths:',
          '  /pets/{id}:',
          '    get:',
          '      parameters: [{name: id, in: path, required: true, schema: {type: string}}]',
          '      responses:',
          '        "200": {description: ok, content: {application/json: {schema: {$ref: "pet.yaml"}}}}',
          '  /pets:',
          '    get:',
          '      responses:',
          '        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "pet.yaml"}}}}}',
          'components:',
          '  schemas:',
          '    Name: {$anchor: name, type: string}',
          '    Alias: {$ref: "#name"}',
        ].join('\n'),
        'pet.yaml': 'type: object\nproperties:\n  name: {type: string}\n',
      },
    });
    expect(dig(spec.document, 'paths', '/pets', 'get', 'responses', '200', 'content', 'application/json', 'schema', 'items')).toEqual({
      $ref: '#/paths/~1pets~1%7Bid%7D/get/responses/200/content/application~1json/schema',
    });
    expect(dig(spec.document, 'components', 'schemas', 'Alias')).toEqual({ $ref: '#name' }); // $anchor refs are kept as written
    const findings = await lintSpec({ document: spec.document });
    // the percent-encoded pointer resolves; only the $anchor ref is unknown to Spectral
    expect(findings.filter((f) => f.rule === 'invalid-ref').map((f) => f.message)).toEqual(["'#name' JSON pointer is invalid"]);
  });

  it('inlines $refs inside example data when they resolve, and keeps them as data when they do not', async () => {
    const entry = (exampleRef: string): string =>
      [
        'openapi: 3.0.3',
        'info: {title: t, version: "1"}',
        'paths:',
        '  /pets:',
        '    get:',
        '      responses:',
        '        "200":',
        '          description: ok',
        '          content:',
        '            application/json:',
        '              schema: {type: object}',
        `              example: {$ref: "${exampleRef}"}`,
      ].join('\n');
    const resolved = await loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': entry('examples.yaml#/pet'), 'examples.yaml': 'pet: {name: Rex}\n' } });
    expect(dig(resolved.document, 'paths', '/pets', 'get', 'responses', '200', 'content', 'application/json', 'example')).toEqual({ name: 'Rex' });
    const kept = await loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': entry('https://example.com/pet.json') } });
    expect(dig(kept.document, 'paths', '/pets', 'get', 'responses', '200', 'content', 'application/json', 'example')).toEqual({ $ref: 'https://example.com/pet.json' });
  });
});

describe('loadSpec errors', () => {
  const withRef = (ref: string): string =>
    [
      'openapi: 3.0.3',
      'info: {title: Pets, version: 1.0.0}',
      'paths:',
      '  /pets:',
      '    get:',
      '      responses:',
      '        "200":',
      '          description: ok',
      '          content:',
      '            application/json:',
      `              schema: {$ref: "${ref}"}`,
    ].join('\n');

  it('refuses a remote $ref, naming it and where it is', async () => {
    const err = await expectApigovError(loadSpec(withRef('https://example.com/schemas/pet.yaml#/Pet')), 'APIGOV_ERR_SPEC_REMOTE_REF');
    expect(err.message).toContain("'https://example.com/schemas/pet.yaml#/Pet'");
    expect(err.message).toContain('paths./pets.get.responses.200.content.application/json.schema');
    expect(err.errors).toEqual([expect.objectContaining({ path: 'paths./pets.get.responses.200.content.application/json.schema' })]);
    expect(err.status).toBe(422);
  });

  it('still refuses a remote $ref with allowRemoteRefs (never fetched)', async () => {
    const err = await expectApigovError(loadSpec(withRef('http://example.com/pet.json'), { allowRemoteRefs: true }), 'APIGOV_ERR_SPEC_REMOTE_REF');
    expect(err.message).toContain('http://example.com/pet.json');
    expect(err.message).toMatch(/not fetched/);
  });

  it('reports a $ref to a file missing from the bundle as UNRESOLVED_REF with its location', async () => {
    const err = await expectApigovError(
      loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': withRef('./schemas/pet.yaml#/Pet') } }),
      'APIGOV_ERR_SPEC_UNRESOLVED_REF',
    );
    expect(err.message).toContain("'./schemas/pet.yaml#/Pet'");
    expect(err.message).toContain("file 'schemas/pet.yaml' is not in the bundle");
    expect(err.errors[0]!.path).toBe('paths./pets.get.responses.200.content.application/json.schema');
  });

  it('reports a file $ref in a single document as UNRESOLVED_REF', async () => {
    const err = await expectApigovError(loadSpec(withRef('../common.yaml')), 'APIGOV_ERR_SPEC_UNRESOLVED_REF');
    expect(err.message).toContain("'../common.yaml'");
  });

  it('reports a $ref that climbs out of the bundle', async () => {
    const err = await expectApigovError(
      loadSpec({ entry: 'api/openapi.yaml', files: { 'api/openapi.yaml': withRef('../../etc/passwd') } }),
      'APIGOV_ERR_SPEC_UNRESOLVED_REF',
    );
    expect(err.message).toContain('points outside the bundle');
  });

  it('reports missing JSON pointers, in another file and in the document itself', async () => {
    const inFile = await expectApigovError(
      loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': withRef('pet.yaml#/Nope'), 'pet.yaml': 'Pet: {type: object}\n' } }),
      'APIGOV_ERR_SPEC_UNRESOLVED_REF',
    );
    expect(inFile.message).toContain("'#/Nope' does not exist in pet.yaml");
    const internal = await expectApigovError(loadSpec(withRef('#/components/schemas/Nope')), 'APIGOV_ERR_SPEC_UNRESOLVED_REF');
    expect(internal.message).toContain("'#/components/schemas/Nope' does not exist in the document");
  });

  it('names the file a bad $ref is written in', async () => {
    const err = await expectApigovError(
      loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': withRef('pet.yaml'), 'pet.yaml': 'type: object\nproperties:\n  tag: {$ref: "tag.yaml"}\n' } }),
      'APIGOV_ERR_SPEC_UNRESOLVED_REF',
    );
    expect(err.message).toContain('(written in pet.yaml)');
    expect(err.errors[0]!.path).toBe('paths./pets.get.responses.200.content.application/json.schema.properties.tag');
  });

  it('refuses a 21 MB document before parsing it', async () => {
    const big = 'openapi: 3.0.3\n' + `x-padding: "${'x'.repeat(21 * 1024 * 1024)}"\n`;
    const started = Date.now();
    const err = await expectApigovError(loadSpec(big), 'APIGOV_ERR_SPEC_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/21\.0 MiB, over the limit of 20\.0 MiB/);
  });

  it('applies maxBytes to the sum of the files of a bundle', async () => {
    const files = fixtureFiles('multifile/petstore-separate');
    const total = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
    await expectApigovError(loadSpec({ entry: 'spec/swagger.yaml', files }, { maxBytes: total - 1 }), 'APIGOV_ERR_SPEC_TOO_LARGE');
    await expect(loadSpec({ entry: 'spec/swagger.yaml', files }, { maxBytes: total })).resolves.toMatchObject({ format: '2.0' });
  });

  it('reports garbage YAML as SPEC_PARSE with the line number', async () => {
    const err = await expectApigovError(loadSpec('openapi: 3.0.3\ninfo:\n  title: x\n   version: [1, 2\npaths: {}\n'), 'APIGOV_ERR_SPEC_PARSE');
    expect(err.message).toMatch(/line 3, column \d+/);
    expect(err.errors[0]!.path).toMatch(/^line 3, column \d+$/);
  });

  it('reports broken JSON as SPEC_PARSE with the line number', async () => {
    const err = await expectApigovError(loadSpec('{\n  "openapi": "3.0.3",\n  "info": {"title": "x",}\n}\n'), 'APIGOV_ERR_SPEC_PARSE');
    expect(err.message).toMatch(/invalid JSON at line 3, column \d+/);
  });

  it('reports a parse error in another file of the bundle with that file name', async () => {
    const err = await expectApigovError(
      loadSpec({ entry: 'openapi.yaml', files: { 'openapi.yaml': withRef('pet.yaml'), 'pet.yaml': 'type: object\n  bad: : :\n' } }),
      'APIGOV_ERR_SPEC_PARSE',
    );
    expect(err.message).toMatch(/^invalid YAML in pet\.yaml at line \d+, column \d+/);
  });

  it('refuses documents that are not OpenAPI with a clear message', async () => {
    const notOas = await expectApigovError(loadSpec('name: my-service\nversion: 1\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(notOas.message).toBe("not an OpenAPI document: missing 'openapi' or 'swagger' field");
    const list = await expectApigovError(loadSpec('- a\n- b\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(list.message).toContain('expected a mapping at the top level');
    const v32 = await expectApigovError(loadSpec('openapi: 3.2.0\ninfo: {title: t, version: "1"}\npaths: {}\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(v32.message).toContain("unsupported OpenAPI version '3.2.0'");
    await expectApigovError(loadSpec('swagger: "1.2"\ninfo: {title: t, version: "1"}\npaths: {}\n'), 'APIGOV_ERR_SPEC_INVALID');
  });

  it('names the missing info / paths in the error', async () => {
    const noInfo = await expectApigovError(loadSpec('openapi: 3.0.3\npaths: {}\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(noInfo.errors).toEqual([expect.objectContaining({ path: 'info' })]);
    const noVersion = await expectApigovError(loadSpec('openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(noVersion.errors[0]!.path).toBe('info.version');
    const noPaths = await expectApigovError(loadSpec('openapi: 3.0.3\ninfo: {title: t, version: "1"}\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(noPaths.errors[0]!.path).toBe('paths');
    expect(noPaths.message).toContain("missing 'paths'");
    const swaggerNoPaths = await expectApigovError(loadSpec('swagger: "2.0"\ninfo: {title: t, version: "1"}\n'), 'APIGOV_ERR_SPEC_INVALID');
    expect(swaggerNoPaths.errors[0]!.path).toBe('paths');
  });

  it('accepts a 3.1 document with only webhooks or only components', async () => {
    await expect(loadSpec(fixture('corpus/oai-examples__v3.1-webhook-example.yaml'))).resolves.toMatchObject({ format: '3.1' });
    await expect(loadSpec('openapi: 3.1.0\ninfo: {title: t, version: "1"}\ncomponents: {}\n')).resolves.toMatchObject({ format: '3.1' });
  });

  it('refuses a bundle whose entry is not one of its files', async () => {
    const err = await expectApigovError(loadSpec({ entry: 'openapi.yaml', files: { 'api.yaml': withRef('#/x') } }), 'APIGOV_ERR_SPEC_INVALID');
    expect(err.message).toContain("entry 'openapi.yaml'");
  });
});

describe('the OpenAPI 3.1 "must fail" fixtures (shared/specs/invalid)', () => {
  // no_containers and unknown_container have none of paths / webhooks / components: not usable as an API
  it.each(['no_containers.yaml', 'unknown_container.yaml'])('%s is refused by loadSpec', async (file) => {
    const err = await expectApigovError(loadSpec(fixture(`invalid/${file}`)), 'APIGOV_ERR_SPEC_INVALID');
    expect(err.message).toContain("at least one of 'paths', 'webhooks' or 'components'");
    expect(err.errors[0]!.path).toBe('paths');
  });

  // the others are structurally OpenAPI 3.1 (they have components): they load, and lint reports them (lint.test.ts)
  it.each(['example-examples.yaml', 'invalid_schema_types.yaml', 'parameter-object-header-allowReserved.yaml', 'server_enum_empty.yaml'])(
    '%s loads as 3.1 (its errors are lint findings)',
    async (file) => {
      await expect(loadSpec(fixture(`invalid/${file}`))).resolves.toMatchObject({ format: '3.1' });
    },
  );
});
