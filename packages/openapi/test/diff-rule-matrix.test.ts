// Every schema rule at every place a schema sits (the matrix in diff-matrix.ts): each edit, applied at each place,
// gives exactly the expected rule id at the expected level. With the corpus, every rule id is exercised.
import { describe, expect, it } from 'vitest';
import { diffOpenApi } from '../src/diff/diff.js';
import { RULES } from '../src/diff/rules.js';
import { EDITS, expectation, PLACES } from './diff-matrix.js';

describe('the diff engine: every schema rule at every place', () => {
  for (const e of EDITS) {
    for (const p of PLACES) {
      const exp = expectation(e, p);
      if (exp === undefined) continue;
      it(`${e.suffix} as ${p.prefix}: ${exp.id} ${exp.level}`, () => {
        const changes = diffOpenApi(p.document(e.base), p.document(e.revision));
        expect(changes.map((c) => `${c.id} ${c.level} ${c.operation}`)).toEqual([`${exp.id} ${exp.level} ${p.operation}`]);
        expect(RULES.get(exp.id)?.level).toBe(exp.level);
      });
    }
  }
});
