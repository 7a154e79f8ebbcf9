import { describe, expect, it } from 'vitest';
import { houseRules } from '../src/house-rules.js';
import { lintSpec, type LintFinding } from '../src/lint.js';
import { loadSpec } from '../src/load.js';
import { expectApigovError, fixture, lineOf } from './helpers.js';

const house = (findings: LintFinding[]): LintFinding[] => findings.filter((f) => f.rule.startsWith('apigov-'));
const rulesOf = (findings: LintFinding[]): string[] => findings.map((f) => f.rule);

/** A small 3.0 document that passes every house rule; `patch` edits a copy of it. */
function goodDoc(patch: (doc: Record<string, any>) => void = () => {}): string {
  const doc: Record<string, any> = {
    openapi: '3.0.3',
    info: { title: 'T', version: '1.0.0', description: 'd', contact: { email: 'team@example.com' } },
    servers: [{ url: 'https://api.example.com' }],
    tags: [{ name: 't', description: 't' }],
    security: [{ key: [] }],
    paths: {
      '/payment-methods/{id}': {
        get: {
          operationId: 'getPaymentMethod',
          summary: 'Get',
          description: 'Get one.',
          tags: ['t'],
          parameters: [{ name: 'id', in: 'path', required: true, description: 'id', schema: { type: 'string' } }],
          responses: { '200': { description: 'ok' }, '404': { description: 'no' }, '500': { description: 'err' } },
        },
      },
    },
    components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
  };
  patch(doc);
  return JSON.stringify(doc, null, 2);
}

describe('houseRules', () => {
  it('publishes the seven apigov rules with their severities', () => {
    expect(houseRules.map((r) => [r.name, r.severity])).toEqual([
      ['apigov-operation-id', 'error'],
      ['apigov-operation-summary', 'warn'],
      ['apigov-security-defined', 'error'],
      ['apigov-4xx-response', 'warn'],
      ['apigov-5xx-response', 'warn'],
      ['apigov-owner-contact', 'error'],
      ['apigov-kebab-case-paths', 'warn'],
    ]);
    for (const rule of houseRules) expect(rule.description.length).toBeGreaterThan(20);
  });
});

describe('lintSpec', () => {
  it('reports exactly the three broken house rules of bad-house.openapi.yaml, with lines', async () => {
    const text = fixture('bad-house.openapi.yaml');
    const findings = await lintSpec({ text });
    expect(house(findings)).toEqual([
      {
        rule: 'apigov-owner-contact',
        severity: 'error',
        message: 'info.contact is missing: name the owning team with an email or a url.',
        path: 'info',
        line: lineOf(text, '  title:') - 1,
        column: 6,
      },
      {
        rule: 'apigov-operation-id',
        severity: 'error',
        message: 'Operation has no operationId.',
        path: 'paths./orders.get',
        line: lineOf(text, '    get:'),
        column: 9,
      },
      {
        rule: 'apigov-kebab-case-paths',
        severity: 'warn',
        message: "Path '/orderItems/{id}' has segment 'orderItems' not in lowercase kebab-case.",
        path: 'paths./orderItems/{id}',
        line: lineOf(text, '/orderItems/{id}:'),
        column: expect.any(Number) as number,
      },
    ]);
    // spectral:oas sees the same two problems, at its own (lower) severity
    expect(findings.filter((f) => !f.rule.startsWith('apigov-')).map((f) => `${f.rule}:${f.severity}`)).toEqual([
      'info-contact:warn',
      'operation-operationId:warn',
    ]);
  });

  it('sorts findings by severity, then line', async () => {
    const findings = await lintSpec({ text: fixture('corpus/swagger-petstore__petstore3-openapi.yaml') });
    const order = ['error', 'warn', 'info', 'hint'];
    for (let i = 1; i < findings.length; i++) {
      const a = findings[i - 1]!;
      const b = findings[i]!;
      const bySeverity = order.indexOf(a.severity) - order.indexOf(b.severity);
      expect(bySeverity < 0 || (bySeverity === 0 && (a.line ?? 0) <= (b.line ?? 0)), `${a.rule}@${a.line} before ${b.rule}@${b.line}`).toBe(true);
    }
  });

  it('passes the payments example with no errors and no warnings', async () => {
    const text = fixture('payments.openapi.yaml');
    const findings = await lintSpec({ text });
    expect(findings.filter((f) => f.severity === 'error' || f.severity === 'warn')).toEqual([]);
    const spec = await loadSpec(text);
    expect(spec).toMatchObject({ format: '3.0', title: 'Payments API', version: '1.0.0' });
    expect(await lintSpec({ document: spec.document })).toEqual(findings);
  });

  it('lints a document as its pretty JSON, so lines point into JSON.stringify(document, null, 2)', async () => {
    const spec = await loadSpec(fixture('bad-house.openapi.yaml'));
    const json = JSON.stringify(spec.document, null, 2);
    const findings = house(await lintSpec({ document: spec.document }));
    expect(rulesOf(findings)).toEqual(['apigov-owner-contact', 'apigov-operation-id', 'apigov-kebab-case-paths']);
    const lines = json.split('\n');
    expect(lines[findings[0]!.line! - 1]).toContain('"info"');
    expect(lines[findings[1]!.line! - 1]).toContain('"get"');
    expect(lines[findings[2]!.line! - 1]).toContain('"/orderItems/{id}"');
  });

  it('applies ruleOverrides, and refuses unknown rules', async () => {
    const text = fixture('bad-house.openapi.yaml');
    const findings = await lintSpec(
      { text },
      { ruleOverrides: { 'apigov-operation-id': 'off', 'apigov-kebab-case-paths': 'error', 'info-contact': 'off', 'operation-operationId': 'hint' } },
    );
    expect(findings.map((f) => `${f.rule}:${f.severity}`)).toEqual([
      'apigov-owner-contact:error',
      'apigov-kebab-case-paths:error',
      'operation-operationId:hint',
    ]);
    // overrides do not leak into the default instance
    expect(rulesOf(house(await lintSpec({ text })))).toContain('apigov-operation-id');
    const err = await expectApigovError(lintSpec({ text }, { ruleOverrides: { 'no-such-rule': 'off' } }), 'APIGOV_ERR_INPUT_INVALID');
    expect(err.message).toContain("'no-such-rule'");
  });

  describe('house rules one by one', () => {
    it('the clean base document has no house findings', async () => {
      expect(house(await lintSpec({ text: goodDoc() }))).toEqual([]);
    });

    it('apigov-operation-summary: a missing summary is a warning', async () => {
      const findings = house(await lintSpec({ text: goodDoc((d) => delete d.paths['/payment-methods/{id}'].get.summary) }));
      expect(findings).toEqual([expect.objectContaining({ rule: 'apigov-operation-summary', severity: 'warn', path: 'paths./payment-methods/{id}.get' })]);
    });

    it('apigov-4xx-response / apigov-5xx-response: default counts as 5xx, not as 4xx', async () => {
      const findings = house(
        await lintSpec({ text: goodDoc((d) => (d.paths['/payment-methods/{id}'].get.responses = { '200': { description: 'ok' }, default: { description: 'x' } })) }),
      );
      expect(findings).toEqual([expect.objectContaining({ rule: 'apigov-4xx-response', severity: 'warn', path: 'paths./payment-methods/{id}.get.responses' })]);
      const none = house(await lintSpec({ text: goodDoc((d) => (d.paths['/payment-methods/{id}'].get.responses = { '200': { description: 'ok' } })) }));
      expect(rulesOf(none)).toEqual(['apigov-4xx-response', 'apigov-5xx-response']);
      const ranges = house(
        await lintSpec({ text: goodDoc((d) => (d.paths['/payment-methods/{id}'].get.responses = { '200': { description: 'ok' }, '4XX': { description: 'c' }, '5XX': { description: 's' } })) }),
      );
      expect(ranges).toEqual([]);
    });

    it('apigov-owner-contact: email or url, not just a name', async () => {
      expect(house(await lintSpec({ text: goodDoc((d) => (d.info.contact = { url: 'https://wiki.example.com/payments' })) }))).toEqual([]);
      const nameOnly = house(await lintSpec({ text: goodDoc((d) => (d.info.contact = { name: 'Payments' })) }));
      expect(nameOnly).toEqual([
        expect.objectContaining({ rule: 'apigov-owner-contact', severity: 'error', path: 'info.contact', message: 'info.contact must give an email or a url for the owning team.' }),
      ]);
    });

    it('apigov-security-defined: schemes must exist and every operation must be covered', async () => {
      const noSchemes = house(await lintSpec({ text: goodDoc((d) => delete d.components) }));
      expect(noSchemes).toEqual([expect.objectContaining({ rule: 'apigov-security-defined', severity: 'error', message: expect.stringContaining('No security schemes') as string })]);
      const noRequirement = house(await lintSpec({ text: goodDoc((d) => delete d.security) }));
      expect(noRequirement).toEqual([expect.objectContaining({ rule: 'apigov-security-defined', message: expect.stringContaining('No security requirement') as string })]);
      const optOut = house(await lintSpec({ text: goodDoc((d) => (d.paths['/payment-methods/{id}'].get.security = [])) }));
      expect(optOut).toEqual([
        expect.objectContaining({ rule: 'apigov-security-defined', path: 'paths./payment-methods/{id}.get.security', message: "GET /payment-methods/{id} opts out of security with an empty 'security' list." }),
      ]);
      const anonymous = house(await lintSpec({ text: goodDoc((d) => (d.security = [{}, { key: [] }])) }));
      expect(anonymous).toEqual([expect.objectContaining({ rule: 'apigov-security-defined', path: 'security' })]);
      const perOperation = house(
        await lintSpec({
          text: goodDoc((d) => {
            delete d.security;
            d.paths['/payment-methods/{id}'].get.security = [{ key: [] }];
          }),
        }),
      );
      expect(perOperation).toEqual([]);
    });

    it('apigov-kebab-case-paths: literal segments only; dots allowed', async () => {
      const lint = async (paths: string[]): Promise<string[]> => {
        const text = goodDoc((d) => {
          const op = d.paths['/payment-methods/{id}'];
          d.paths = Object.fromEntries(paths.map((p) => [p, op]));
        });
        return house(await lintSpec({ text }, { ruleOverrides: { 'apigov-operation-id': 'off' } })).map((f) => f.message);
      };
      expect(await lint(['/v1/payment-methods/{paymentMethodId}', '/openapi.json', '/.well-known/jwks.json', '/files/{id}.json', '/'])).toEqual([]);
      expect(await lint(['/paymentMethods/{id}', '/payment_methods/{id}', '/Payments/{id}', '/payments/{id}:capture'])).toEqual([
        "Path '/paymentMethods/{id}' has segment 'paymentMethods' not in lowercase kebab-case.",
        "Path '/payment_methods/{id}' has segment 'payment_methods' not in lowercase kebab-case.",
        "Path '/Payments/{id}' has segment 'Payments' not in lowercase kebab-case.",
        "Path '/payments/{id}:capture' has segment '{id}:capture' not in lowercase kebab-case.",
      ]);
    });
  });

  it('lints Swagger 2.0 (uber): house rules read securityDefinitions and 2.0 responses', async () => {
    const text = fixture('corpus/oai-examples__v2.0-uber.json');
    const findings = house(await lintSpec({ text }));
    const count = (rule: string): number => findings.filter((f) => f.rule === rule).length;
    expect(count('apigov-operation-id')).toBe(5); // uber.json has no operationIds
    expect(count('apigov-owner-contact')).toBe(1);
    expect(count('apigov-4xx-response')).toBe(5); // only 200 and default
    expect(count('apigov-5xx-response')).toBe(0);
    expect(findings.filter((f) => f.rule === 'apigov-security-defined').map((f) => f.message)).toEqual([
      'No security schemes are defined: add securityDefinitions saying how clients authenticate.',
      "No security requirement: add a global 'security' (or one per operation) so that no operation is anonymous.",
    ]);
  });

  it('lints a webhooks-only 3.1 document without operation rules firing', async () => {
    const findings = await lintSpec({ text: fixture('corpus/oai-examples__v3.1-webhook-example.yaml') });
    expect(rulesOf(house(findings))).toEqual(['apigov-owner-contact']);
  });

  it('never follows external $refs while linting text: they are invalid-ref errors', async () => {
    const text = goodDoc((d) => {
      d.paths['/payment-methods/{id}'].get.responses['200'] = { $ref: 'https://example.com/responses.yaml#/Ok' };
      d.paths['/payment-methods/{id}'].get.responses['404'] = { $ref: './responses.yaml#/NotFound' };
    });
    const refs = (await lintSpec({ text })).filter((f) => f.rule === 'invalid-ref');
    expect(refs.map((f) => [f.severity, f.path])).toEqual([
      ['error', 'paths./payment-methods/{id}.get.responses.200.$ref'],
      ['error', 'paths./payment-methods/{id}.get.responses.404.$ref'],
    ]);
  });

  it('reports YAML syntax errors as parser findings with lines', async () => {
    const findings = await lintSpec({ text: 'openapi: 3.0.3\ninfo:\n  title: x\n   version: [1\npaths: {}\n' });
    expect(findings.filter((f) => f.rule === 'parser').length).toBeGreaterThan(0);
    expect(findings.find((f) => f.rule === 'parser')).toMatchObject({ severity: 'error', line: expect.any(Number) as number });
  });
});

describe('lintSpec on the OpenAPI 3.1 "must fail" fixtures that load', () => {
  it('invalid_schema_types.yaml: each non-schema is an oas3-schema error', async () => {
    const findings = await lintSpec({ text: fixture('invalid/invalid_schema_types.yaml') });
    expect(findings.filter((f) => f.rule === 'oas3-schema').map((f) => [f.severity, f.path])).toEqual([
      ['error', 'components.schemas.invalid_null'],
      ['error', 'components.schemas.invalid_number'],
      ['error', 'components.schemas.invalid_array'],
    ]);
  });

  it('server_enum_empty.yaml: the empty enum is an oas3-schema error', async () => {
    const findings = await lintSpec({ text: fixture('invalid/server_enum_empty.yaml') });
    expect(findings).toContainEqual(expect.objectContaining({ rule: 'oas3-schema', severity: 'error', path: 'servers[0].variables.var.enum' }));
  });

  it('parameter-object-header-allowReserved.yaml: allowReserved on a header is an oas3-schema error', async () => {
    const findings = await lintSpec({ text: fixture('invalid/parameter-object-header-allowReserved.yaml') });
    expect(findings).toContainEqual(expect.objectContaining({ rule: 'oas3-schema', severity: 'error', path: 'components.parameters.header' }));
  });

  it('example-examples.yaml: spectral:oas does not catch example+examples together (known gap); only the house contact rule fails', async () => {
    const findings = await lintSpec({ text: fixture('invalid/example-examples.yaml') });
    expect(rulesOf(findings.filter((f) => f.severity === 'error'))).toEqual(['apigov-owner-contact']);
  });

  it.each(['no_containers.yaml', 'unknown_container.yaml'])('%s (refused by loadSpec) is also an oas3-schema error when linted as text', async (file) => {
    const findings = await lintSpec({ text: fixture(`invalid/${file}`) });
    expect(findings[0]).toMatchObject({ rule: 'oas3-schema', severity: 'error', message: 'The document must have either "paths", "webhooks" or "components".' });
  });
});

describe('lintSpec on large real documents', () => {
  it('lints the 487 KB openai 2024 document (duplicate YAML anchors), text and loaded document alike', async () => {
    const text = fixture('corpus/openai__openapi-2024-04-23-dup-anchors.yaml');
    let started = performance.now();
    const fromText = await lintSpec({ text });
    const textMs = performance.now() - started;
    started = performance.now();
    const fromDocument = await lintSpec({ document: (await loadSpec(text)).document });
    const documentMs = performance.now() - started;
    console.log(`lint openai 2024-04-23 (487 KB YAML): text ${textMs.toFixed(0)} ms, document ${documentMs.toFixed(0)} ms, ${fromText.length} findings`);
    expect(rulesOf(fromText).sort()).toEqual(rulesOf(fromDocument).sort());
    expect(fromText.filter((f) => f.rule === 'parser')).toEqual([]);
    expect(fromText.filter((f) => f.rule === 'apigov-5xx-response')).toHaveLength(63); // no operation documents 5xx/default
  });

  it('lints the largest document (openai 2026-08-21, 2.97 MB, OpenAPI 3.1) without crashing', { timeout: 300_000 }, async () => {
    const text = fixture('corpus/openai__openapi-2026-08-21.yaml');
    const started = performance.now();
    const findings = await lintSpec({ text });
    const ms = performance.now() - started;
    const errors = findings.filter((f) => f.severity === 'error');
    console.log(
      `lint openai 2026-08-21 (${(text.length / 1e6).toFixed(2)} MB YAML, 288 operations): ${(ms / 1000).toFixed(1)} s, ${findings.length} findings, ${errors.length} errors`,
    );
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter((f) => f.rule === 'parser')).toEqual([]);
    // the 3.0-isms in this 3.1 document (MANIFEST: `nullable`, boolean exclusiveMinimum) are structural errors
    expect(errors.some((f) => f.rule === 'oas3-schema')).toBe(true);
    expect(findings.filter((f) => f.rule === 'apigov-5xx-response')).toHaveLength(288);
  });
});
