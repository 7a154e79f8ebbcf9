// Linting in the worker thread: the same findings and refusals as lintSpec in the caller's thread, and the caller's
// event loop stays free while a large real document is linted.
import { afterAll, describe, expect, it } from 'vitest';
import { lintSpec, type LintInput } from '../src/lint.js';
import { lintSpecOffThread, stopLintThread } from '../src/lint-thread.js';
import { loadSpec } from '../src/load.js';
import { expectApigovError, fixture } from './helpers.js';

afterAll(() => stopLintThread());

/** the longest the event loop went without running a 2 ms ticker while `work` ran */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; ms: number }> {
  let stallMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 2);
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(ticker);
  return { result, stallMs, ms };
}

describe('lintSpecOffThread', () => {
  it('gives the findings lintSpec gives, for texts and documents', async () => {
    for (const name of ['bad-house.openapi.yaml', 'payments.openapi.yaml']) {
      const text = fixture(name);
      expect(await lintSpecOffThread({ text })).toEqual(await lintSpec({ text }));
      const { document } = await loadSpec(text);
      expect(await lintSpecOffThread({ document }, { ruleOverrides: { 'apigov-operation-summary': 'error' } })).toEqual(await lintSpec({ document }, { ruleOverrides: { 'apigov-operation-summary': 'error' } }));
    }
    expect((await lintSpecOffThread({ text: fixture('bad-house.openapi.yaml') })).length).toBeGreaterThan(0);
  });

  it('refuses what lintSpec refuses, with the same code, message and field errors', async () => {
    const text = fixture('payments.openapi.yaml');
    const cases: Array<[LintInput, Record<string, never> | { ruleOverrides: Record<string, string> }]> = [
      [{ text }, { ruleOverrides: { 'no-such-rule': 'off' } }],
      [{ text }, { ruleOverrides: { 'apigov-operation-id': 'loud' } }],
      [{} as LintInput, {}],
    ];
    for (const [input, options] of cases) {
      const inThread = await expectApigovError(lintSpec(input, options as never), 'APIGOV_ERR_INPUT_INVALID');
      const offThread = await expectApigovError(lintSpecOffThread(input, options as never), 'APIGOV_ERR_INPUT_INVALID');
      expect({ message: offThread.message, errors: offThread.errors }).toEqual({ message: inThread.message, errors: inThread.errors });
    }
    // a value that cannot cross to the worker is refused like one lintSpec cannot serialise
    await expectApigovError(lintSpecOffThread({ document: { openapi: '3.1.0', info: { title: 't', version: '1', x: () => 1 } } as never }), 'APIGOV_ERR_SPEC_INVALID');
  });

  it('keeps the event loop free while the 487 KB openai document lints, and a stopped worker is replaced', async () => {
    const text = fixture('corpus/openai__openapi-2024-04-23-dup-anchors.yaml');
    const off = await longestStall(() => lintSpecOffThread({ text }));
    console.log(`lint openai 2024-04-23 off the thread: ${off.ms.toFixed(0)} ms, the event loop's longest stall ${off.stallMs.toFixed(0)} ms`);
    expect(off.result.filter((f) => f.rule === 'apigov-5xx-response')).toHaveLength(63);
    // in the caller's thread the loop is held for the whole lint (441 ms of 440 here); a busy CI machine adds its own gaps
    expect(off.stallMs).toBeLessThan(Math.max(100, off.ms / 3));
    await stopLintThread();
    expect((await lintSpecOffThread({ text: fixture('payments.openapi.yaml') })).filter((f) => f.severity === 'error')).toEqual([]);
  });
});
