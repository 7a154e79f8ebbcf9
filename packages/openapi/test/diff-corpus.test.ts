// The labelled corpus of the diff engine (test/fixtures/diff-corpus/*.yaml): each case gives a base and a revision
// and the exact set of (rule id, level, operation) the engine must report; breaking recall and precision are printed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { diffOpenApi } from '../src/diff/diff.js';
import { RULES } from '../src/diff/rules.js';
import type { OpenApiDocument } from '../src/types.js';
import { matrixRuleIds } from './diff-matrix.js';
import { fixturesDir } from './helpers.js';

type Json = Record<string, unknown>;

interface Case {
  name: string;
  /** `request`: base/revision are the JSON body schema of POST /x; `response`: of GET /x's 200; `parameter`: of GET /x's query parameter q; default: documents */
  kind?: 'request' | 'response' | 'parameter' | 'document';
  openapi?: string;
  base: unknown;
  revision: unknown;
  /** components shared by both sides (schema cases) */
  components?: Json;
  baseComponents?: Json;
  revisionComponents?: Json;
  /** `rule-id level METHOD /path`, or `rule-id level -` for a document-wide change */
  expect: string[];
  file: string;
}

const NOW = new Date('2026-12-01T00:00:00Z');

function wrap(c: Case, side: 'base' | 'revision'): OpenApiDocument {
  const body = c[side];
  const components = { ...(c.components ?? {}), ...((side === 'base' ? c.baseComponents : c.revisionComponents) ?? {}) } as Json;
  const header = { openapi: c.openapi ?? '3.0.3', info: { title: 'corpus', version: '1.0.0' } };
  const withComponents = (doc: Json) => (Object.keys(components).length > 0 ? { ...doc, components } : doc);
  switch (c.kind ?? 'document') {
    case 'request':
      return withComponents({ ...header, paths: { '/x': { post: { requestBody: { required: true, content: { 'application/json': { schema: body } } }, responses: { '200': { description: 'ok' } } } } } });
    case 'response':
      return withComponents({ ...header, paths: { '/x': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: body } } } } } } } });
    case 'parameter':
      return withComponents({ ...header, paths: { '/x': { get: { parameters: [{ name: 'q', in: 'query', schema: body }], responses: { '200': { description: 'ok' } } } } } });
    default: {
      const doc = body as Json;
      if (doc.openapi === undefined && doc.swagger === undefined) return withComponents({ ...header, ...doc });
      return doc;
    }
  }
}

function loadCases(): Case[] {
  const dir = join(fixturesDir, 'diff-corpus');
  const out: Case[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const c of parse(readFileSync(join(dir, file), 'utf8')) as Case[]) out.push({ ...c, file });
  }
  return out;
}

function key(id: string, level: string, operation: string | undefined): string {
  return `${id} ${level} ${operation ?? '-'}`;
}

const cases = loadCases();

describe('the diff engine on the labelled corpus', () => {
  it('has at least 150 pairs, every rule id at least once, names unique, expectations well formed', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const names = cases.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    const expectedIds = new Set<string>();
    for (const c of cases) {
      for (const e of c.expect) {
        const [id, level] = e.split(' ');
        expect(RULES.has(id), `${c.name}: unknown rule ${id}`).toBe(true);
        expect(RULES.get(id)!.level, `${c.name}: ${id} is not ${level} by default`).toBe(level);
        expectedIds.add(id);
      }
    }
    // every rule id is exercised, by a corpus pair or by the rule matrix (every schema rule at every place)
    const covered = new Set([...expectedIds, ...matrixRuleIds()]);
    expect([...RULES.keys()].filter((id) => !covered.has(id) && id !== 'diff-incomplete')).toEqual([]);
  });

  it('finds every breaking change (recall 100%) with precision of at least 98%', () => {
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    const misses: string[] = [];
    for (const c of cases) {
      const found = new Set(diffOpenApi(wrap(c, 'base'), wrap(c, 'revision'), { now: NOW }).filter((x) => x.level === 'breaking').map((x) => key(x.id, x.level, x.operation)));
      const wanted = new Set(c.expect.filter((e) => e.split(' ')[1] === 'breaking'));
      for (const f of found) {
        if (wanted.has(f)) truePositives++;
        else {
          falsePositives++;
          misses.push(`${c.name}: unexpected ${f}`);
        }
      }
      for (const w of wanted) {
        if (!found.has(w)) {
          falseNegatives++;
          misses.push(`${c.name}: missed ${w}`);
        }
      }
    }
    const recall = truePositives / (truePositives + falseNegatives);
    const precision = truePositives / (truePositives + falsePositives);
    console.log(`diff corpus: ${cases.length} pairs, ${truePositives + falseNegatives} breaking changes expected; recall ${(recall * 100).toFixed(1)}%, precision ${(precision * 100).toFixed(1)}%`);
    expect(misses.filter((m) => m.includes('missed'))).toEqual([]);
    expect(recall).toBe(1);
    expect(precision).toBeGreaterThanOrEqual(0.98);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.name}`, () => {
      const changes = diffOpenApi(wrap(c, 'base'), wrap(c, 'revision'), { now: NOW });
      expect(changes.map((x) => key(x.id, x.level, x.operation)).sort()).toEqual([...c.expect].sort());
      for (const x of changes) {
        expect(x.text.length).toBeGreaterThan(0);
        expect(x.migration.length).toBeGreaterThan(0);
        expect(x.text).not.toMatch(/\{(name|detail|from|to|op)\}/);
        expect(x.migration).not.toMatch(/\{(name|detail|from|to|op)\}/);
        expect(x.fingerprint).toMatch(/^[0-9a-f]{20}$/);
      }
    });
  }
});
