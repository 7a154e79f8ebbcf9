// `apigov validate`: local lint with no control plane; exit 0 clean, 1 blocking findings, 2 unreadable
// or not OpenAPI.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, run, stderrLines, tempDir } from './helpers.js';

const env = () => ({ APIGOV_CONFIG: join(tempDir(), 'config.yaml') });
const fixture = (name: string) => join(FIXTURES, name);

describe('apigov validate', () => {
  it('passes a clean spec (exit 0) without any control plane', async () => {
    const r = await run(['validate', fixture('good.openapi.yaml')], { ...env(), APIGOV_URL: 'http://127.0.0.1:1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 errors');
    expect(r.stdout).toContain('ok');
  });

  it('fails a spec with lint errors (exit 1), listing severity, line:col, rule and path', async () => {
    const r = await run(['validate', fixture('bad.openapi.yaml')], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SEVERITY\s+LINE:COL\s+RULE\s+MESSAGE\s+PATH$/);
    // the GET without operationId is on line 15, the /pets/{id} GET without its path parameter on line 27
    expect(r.stdout).toMatch(/^error\s+15:\d+\s+apigov-operation-id\s+.+\s+paths\.\/pets\.get$/m);
    expect(r.stdout).toMatch(/^error\s+27:\d+\s+path-params\s+.+/m);
    expect(r.stdout).toMatch(/^error\s+2:\d+\s+apigov-owner-contact\s+/m);
    expect(r.stdout).toMatch(/3 errors, \d+ warnings?; errors block: BLOCKED by 3\.$/m);
  });

  it('--env dev blocks on nothing by default; staging and prod block on errors', async () => {
    expect((await run(['validate', fixture('bad.openapi.yaml'), '--env', 'dev'], env())).code).toBe(0);
    expect((await run(['validate', fixture('bad.openapi.yaml'), '--env', 'staging'], env())).code).toBe(1);
    expect((await run(['validate', fixture('bad.openapi.yaml'), '--env', 'prod'], env())).code).toBe(1);
  });

  it("--ruleset uses the GovernanceRuleset's rule overrides and gates", async () => {
    // ruleset.yaml: path-params -> warn, apigov-owner-contact off; prod blocks on warnings, '*' on errors
    const dev = await run(['validate', fixture('bad.openapi.yaml'), '--ruleset', fixture('ruleset.yaml'), '--env', 'dev', '-o', 'json'], env());
    expect(dev.code).toBe(1);
    const result = JSON.parse(dev.stdout) as { findings: Array<{ rule: string; severity: string }>; blocked: boolean; blockOn: string };
    expect(result.blockOn).toBe('error');
    expect(result.blocked).toBe(true);
    expect(result.findings.find((f) => f.rule === 'path-params')?.severity).toBe('warn');
    expect(result.findings.some((f) => f.rule === 'apigov-owner-contact')).toBe(false);

    const prod = await run(['validate', fixture('good.openapi.yaml'), '--ruleset', fixture('ruleset.yaml'), '--env', 'prod', '-o', 'json'], env());
    expect(JSON.parse(prod.stdout).blockOn).toBe('warn');
  });

  it('bundles a spec split over several files ($refs to local files)', async () => {
    const r = await run(['validate', fixture('multifile/openapi.yaml')], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a non-existent file exits 2 with one line saying it cannot be read', async () => {
    const r = await run(['validate', fixture('does-not-exist.yaml')], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^apigov: cannot read .*does-not-exist\.yaml: no such file or directory \[APIGOV_ERR_CLI_FILE_UNREADABLE\]$/)]);
    expect(r.stdout).toBe('');
  });

  it('a garbage file and a YAML file that is not OpenAPI exit 2 with the spec error', async () => {
    const garbage = await run(['validate', fixture('garbage.yaml')], env());
    expect(garbage.code).toBe(2);
    expect(stderrLines(garbage)).toEqual([expect.stringMatching(/^apigov: .*garbage\.yaml: .+ \[APIGOV_ERR_SPEC_PARSE\]$/)]);
    const other = await run(['validate', fixture('not-openapi.yaml')], env());
    expect(other.code).toBe(2);
    expect(stderrLines(other)).toEqual([expect.stringMatching(/not an OpenAPI document.* \[APIGOV_ERR_SPEC_INVALID\]$/)]);
  });

  it('a $ref to a missing local file exits 2 naming the file', async () => {
    const dir = tempDir();
    const text = `openapi: 3.0.3\ninfo: {title: T, version: 1.0.0}\npaths: {}\ncomponents:\n  schemas:\n    Pet:\n      $ref: './schemas/missing.yaml'\n`;
    writeFileSync(join(dir, 'openapi.yaml'), text);
    const r = await run(['validate', join(dir, 'openapi.yaml')], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/missing\.yaml.*\[APIGOV_ERR_SPEC_UNRESOLVED_REF\]$/)]);
  });
});
