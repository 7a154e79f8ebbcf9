// The sliced parse of a snapshot's JSON text against JSON.parse itself: the same value (key order, duplicates,
// __proto__, escapes) or the same refusal, for hand-picked texts and a few thousand mutated ones; and it yields.
import { describe, expect, it } from 'vitest';
import { parseSnapshotText } from '../src/snapshot-text.js';
import { runToEnd } from '../src/load-slices.js';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';

/** parse with slicing from the first character, counting the yields */
function sliced(text: string): { value: unknown; steps: number } {
  const steps = parseSnapshotText(text, 0);
  let n = 0;
  for (;;) {
    const r = steps.next();
    if (r.done === true) return { value: r.value, steps: n };
    n++;
  }
}

function outcome(parse: () => unknown): { ok: true; json: string; keys: string } | { ok: false; error: string } {
  try {
    const v = parse();
    // JSON.stringify shows values and key order; own keys of the top level show __proto__ kept as a key
    return { ok: true, json: JSON.stringify(v), keys: typeof v === 'object' && v !== null ? Reflect.ownKeys(v).join(',') : '' };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function expectSameAsJsonParse(text: string): void {
  const expected = outcome(() => JSON.parse(text) as unknown);
  const actual = outcome(() => sliced(text).value);
  expect(actual, text.slice(0, 200)).toEqual(expected);
  if (actual.ok) {
    const v = sliced(text).value;
    const reference: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null) expect(Object.getPrototypeOf(v), text.slice(0, 200)).toBe(Object.getPrototypeOf(reference));
  }
}

/** a small deterministic PRNG (mulberry32) so a failure can be replayed */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = [
  '{}',
  ' \n\t{ } \r\n',
  '{"routes":[]}',
  '{"routes":[],"apiKeys":{},"consumers":{}}',
  '{"routes":[1,"two",{"three":[3]},[4],null,true,false,-5.5e-3]}',
  '{"apiKeys":{"a":{"x":"}"},"b":{"y":"]\\"}"}}}',
  '{"routes":["a\\\\","b\\\\\\"c",""]}',
  '{"consumers":{"__proto__":{"team":"t"},"x":1,"x":2},"__proto__":{"polluted":true}}',
  '{"a":1,"a":2,"routes":[1],"routes":[2,3]}',
  '{"routes" : [ 1 , 2 ] , "hash" : "h" }',
  '{"routes":[{"unicode":"\\u00e9\\ud83d\\ude00 é 😀"}]}',
  '{"version":1e400,"routes":[-0,0.1,1E+2]}',
  '{"apiKeys":{"\\u0061":1,"a":2}}',
  // not JSON, in many ways
  '',
  '{',
  '{"routes":[1,2}',
  '{"routes":[1,2]',
  '{"routes":[1,,2]}',
  '{"routes":[1 2]}',
  '{"routes":[1,]}',
  '{"apiKeys":{"a":1,}}',
  '{"apiKeys":{"a" 1}}',
  '{"apiKeys":{a:1}}',
  '{"routes":[{"a":[1}]]}',
  '{"routes":[tru]}',
  '{"routes":[01]}',
  '{"routes":["unterminated]}',
  '{"routes":["bad \\x escape"]}',
  '{"routes":["raw\ncontrol"]}',
  '{"routes":[]} x',
  '{"routes":[]}{}',
  '[1,2]',
  '"text"',
  '{"a":1}}',
  '\ufeff{"routes":[]}',
];

describe('parseSnapshotText', () => {
  it('gives JSON.parse’s value or JSON.parse’s error for awkward texts', () => {
    for (const text of TRICKY) expectSameAsJsonParse(text);
  });

  it('parses a real snapshot exactly as JSON.parse does, yielding between pieces of a large one', async () => {
    const routes = [];
    for (let i = 0; i < 400; i++) routes.push(await paymentsRoute('http://127.0.0.1:9', { id: `api-${i}/v1` }));
    const apiKeys: Record<string, { credential: string; application: string }> = {};
    for (let i = 0; i < 5000; i++) apiKeys[i.toString(16).padStart(64, '0')] = { credential: `c${i}`, application: `app "${i}" \\ }` };
    const text = JSON.stringify(buildSnapshot({ routes, apiKeys }), null, 1);
    const { value, steps } = sliced(text);
    expect(value).toEqual(JSON.parse(text));
    expect(JSON.stringify(value)).toBe(JSON.stringify(JSON.parse(text)));
    expect(steps).toBeGreaterThan(3);
    // below the threshold: one JSON.parse, no yields
    expect(runToEnd(parseSnapshotText('{"routes":[1]}'))).toEqual({ routes: [1] });
  });

  it('agrees with JSON.parse on 3,000 mutations of a snapshot text', async () => {
    const base = JSON.stringify(
      buildSnapshot({
        routes: [await paymentsRoute('http://127.0.0.1:9')],
        apiKeys: { ['a'.repeat(64)]: { credential: 'c1', application: 'app-"1"' }, ['b'.repeat(64)]: { credential: 'c\\2', application: 'app}]2' } },
        consumers: { 'app-1': { application: 'app-1', team: 't', subscriptions: { 'payments/v1': { plan: 'free' } } } },
      }),
    );
    const random = prng(20261201);
    const alphabet = ['{', '}', '[', ']', '"', '\\', ',', ':', ' ', '1', 'a', 'e', '-', '\n', 'n'];
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      let text = base;
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const at = Math.floor(random() * text.length);
        const kind = random();
        const ch = alphabet[Math.floor(random() * alphabet.length)]!;
        if (kind < 0.4) text = text.slice(0, at) + text.slice(at + 1);
        else if (kind < 0.7) text = text.slice(0, at) + ch + text.slice(at);
        else text = text.slice(0, at) + ch + text.slice(at + 1);
      }
      expectSameAsJsonParse(text);
      if (outcome(() => JSON.parse(text) as unknown).ok) accepted++;
    }
    // the mutations exercise both sides: some texts stay JSON, most do not
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(2900);
  });
});
