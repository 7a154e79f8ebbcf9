// bench/diff runs as a test: the openai 2024 → 2026 diff, after both documents are loaded, takes under a second,
// and the bench prints load time, diff time, the diff-to-load ratio and peak RSS for it and every version pair.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('../../../bench/diff.mjs', import.meta.url));

describe('bench/diff', () => {
  it('diffs the large openai pair in under a second and reports every pair', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BENCH], { maxBuffer: 16 * 1024 * 1024 });
    const last = JSON.parse(stdout.trim().split('\n').pop()!) as { openai_diff_ms: number; openai_load_ms: number; openai_diff_to_load: number; peak_rss_mb: number; pairs: Array<{ pair: string; diffMs: number; loadMs: number; diffToLoad: number }> };
    console.log(stdout);
    expect(last.openai_diff_ms).toBeLessThan(1000);
    expect(last.openai_diff_to_load).toBeGreaterThan(0);
    expect(last.peak_rss_mb).toBeGreaterThan(0);
    expect(last.pairs.map((p) => p.pair)).toEqual(['openai-2024-04-23→2026-08-21', 'adyen-BalanceControlService-v1-v2', 'openai-2023-06-remove-deprecated', 'twilio-events-v1']);
    for (const p of last.pairs) expect(p.diffToLoad).toBeGreaterThan(0);
  }, 120_000);
});
