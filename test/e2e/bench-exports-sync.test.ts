// bench/export and bench/sync run as tests: the Envoy Gateway and Backstage exports of 1,000 APIs each take under
// 2 s (JSON and YAML), and `apigov sync --once` of a 1,000-resource repository on PGlite under 10 s, with the second
// sync of the same commit changing nothing. Each prints its ratio against the reference it measures in the same run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

const run = async (script: string) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bench', script)], { maxBuffer: 16 * 1024 * 1024 });
  console.log(`${script}: ${stdout.trim()}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
};

describe('bench/export and bench/sync', () => {
  it('exports 1,000 APIs for Envoy Gateway and Backstage in under 2 s each', async () => {
    const r = await run('export.mjs');
    expect(r.apis).toBe(1000);
    expect(r.envoy_gateway_objects).toBeGreaterThan(5000);
    expect(r.backstage_entities).toBeGreaterThan(1000);
    expect(r.envoy_gateway_export_ms).toBeLessThan(2000);
    expect(r.envoy_gateway_yaml_ms).toBeLessThan(2000);
    expect(r.backstage_export_ms).toBeLessThan(2000);
    expect(r.envoy_gateway_vs_apigov_export).toBeGreaterThan(0);
  }, 180_000);

  it('syncs a 1,000-resource repository in under 10 s on PGlite, and the same commit again changes nothing', async () => {
    const r = await run('sync.mjs');
    expect(r.resources).toBe(1000);
    expect(r.sync_created).toBe(1000);
    expect(r.resync_changes).toBe(0);
    expect(r.sync_ms).toBeLessThan(10_000);
    expect(r.sync_vs_apply).toBeGreaterThan(0);
  }, 180_000);
});
