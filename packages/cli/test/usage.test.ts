// Usage errors: what a user sees when the command line itself is wrong (exit 2, one line on stderr).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES, run, stderrLines, tempDir } from './helpers.js';

const env = () => ({ APIGOV_CONFIG: join(tempDir(), 'config.yaml') });
const USAGE_LINE = /^apigov: .+ \[APIGOV_ERR_CLI_USAGE\]$/;

describe('usage errors', () => {
  it('an unknown command exits 2 with one line naming it', async () => {
    const r = await run(['frobnicate'], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(stderrLines(r)[0]).toMatch(USAGE_LINE);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stdout).toBe('');
  });

  it('register without --spec exits 2 and says which option is missing', async () => {
    const r = await run(['register', '--name', 'pets', '--team', 'pets'], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(USAGE_LINE)]);
    expect(r.stderr).toContain('--spec');
  });

  it('a bad -o value exits 2 and lists the allowed formats', async () => {
    const r = await run(['teams', 'list', '-o', 'xml'], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(USAGE_LINE)]);
    expect(r.stderr).toContain("'xml'");
    expect(r.stderr).toContain('table, json, yaml');
  });

  it('an unknown option and a missing argument exit 2', async () => {
    const unknown = await run(['search', '--colour'], env());
    expect(unknown.code).toBe(2);
    expect(stderrLines(unknown)).toEqual([expect.stringContaining("unknown option '--colour'")]);
    const missing = await run(['validate'], env());
    expect(missing.code).toBe(2);
    expect(stderrLines(missing)).toEqual([expect.stringContaining("missing required argument 'file'")]);
  });

  it('bad option values are usage errors before anything is sent', async () => {
    for (const args of [
      ['search', '--limit', '0'],
      ['publish', 'pets', '--env', 'dev', '--version', 'latest'],
      ['register', '--spec', join(FIXTURES, 'good.openapi.yaml'), '--name', 'pets', '--upstream', 'dev'],
      ['deprecate', 'pets', '--version', '1', '--sunset', 'next tuesday'],
      ['teams', 'create', 'Not_A_Name'],
      ['users', 'create', 'alex', '--role', 'owner'],
    ]) {
      const r = await run(args, { ...env(), APIGOV_URL: 'http://127.0.0.1:1' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(stderrLines(r), args.join(' ')).toHaveLength(1);
      expect(stderrLines(r)[0]).toMatch(/^apigov: .+ \[APIGOV_ERR_[A-Z_]+\]$/);
    }
  });

  it('a command with no control plane configured says how to configure one (exit 2)', async () => {
    const r = await run(['teams', 'list'], env());
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringContaining('apigov login --url URL --token TOKEN')]);
  });

  it('--help, help COMMAND and --version exit 0 on stdout; no command at all is a usage error', async () => {
    const help = await run(['--help'], env());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: apigov');
    expect(help.stdout).toContain('validate');
    const sub = await run(['help', 'teams'], env());
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('create');
    const version = await run(['--version'], env());
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const none = await run([], env());
    expect(none.code).toBe(2);
  });
});
