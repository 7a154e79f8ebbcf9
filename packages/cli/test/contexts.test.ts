// login / config / env round trip against a real HTTP peer that answers GET /v1/whoami, and the
// config file they write (location, YAML shape, mode 0600, env overrides).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { problem, run, startPeer, stderrLines, tempDir, type Peer } from './helpers.js';

const TOKENS: Record<string, { name: string; role: string; team?: string; admin: boolean }> = {
  'alex-token': { name: 'alex', role: 'owner', team: 'payments', admin: false },
  'pooja-token': { name: 'pooja', role: 'platform-admin', admin: true },
};

let peer: Peer;
let other: Peer;

function whoamiPeer(label: string) {
  return startPeer((req) => {
    if (req.method !== 'GET' || req.path !== '/v1/whoami') return undefined;
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (token === undefined) return problem(401, 'APIGOV_ERR_AUTH_MISSING_TOKEN', 'a bearer token is required');
    const me = TOKENS[token];
    if (me === undefined) return problem(401, 'APIGOV_ERR_AUTH_INVALID_TOKEN', 'the token is not valid');
    return { body: { ...me, name: `${me.name}${label}` } };
  });
}

beforeAll(async () => {
  peer = await whoamiPeer('');
  other = await whoamiPeer('@other');
});

afterAll(async () => {
  await peer.close();
  await other.close();
});

describe('login, config and env', () => {
  it('login verifies the token, saves the context (mode 0600) and makes it current; config shows who you are', async () => {
    const config = join(tempDir(), 'nested', 'config.yaml');
    const env = { APIGOV_CONFIG: config };
    const login = await run(['login', '--url', `${peer.url}/`, '--token', 'alex-token'], env);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${peer.url} as alex (owner, team payments)`);
    expect(peer.requests.at(-1)?.headers.authorization).toBe('Bearer alex-token');

    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(YAML.parse(readFileSync(config, 'utf8'))).toEqual({ current: 'default', contexts: { default: { url: peer.url, token: 'alex-token' } } });

    const shown = await run(['config'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^context:\s+default$/m);
    expect(shown.stdout).toMatch(new RegExp(`^url:\\s+${peer.url}$`, 'm'));
    expect(shown.stdout).toMatch(/^user:\s+alex$/m);
    expect(shown.stdout).toMatch(/^team:\s+payments$/m);

    const json = await run(['config', '-o', 'json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ context: 'default', url: peer.url, whoami: { name: 'alex', role: 'owner' } });
  });

  it('env lists contexts and switches between them; requests go to the current one', async () => {
    const env = { APIGOV_CONFIG: join(tempDir(), 'config.yaml') };
    expect((await run(['login', '--url', peer.url, '--token', 'alex-token', '--context', 'alex'], env)).code).toBe(0);
    expect((await run(['login', '--url', other.url, '--token', 'pooja-token', '--context', 'pooja'], env)).code).toBe(0);

    const list = await run(['env'], env);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^CURRENT\s+NAME\s+URL$/);
    expect(list.stdout).toMatch(new RegExp(`^\\s+alex\\s+${peer.url}$`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^\\*\\s+pooja\\s+${other.url}$`, 'm'));
    expect(list.stdout).not.toContain('token');

    expect((await run(['config'], env)).stdout).toMatch(/^user:\s+pooja@other$/m);
    const sw = await run(['env', 'alex'], env);
    expect(sw.code).toBe(0);
    expect(sw.stdout).toContain("Switched to context 'alex'");
    expect((await run(['config'], env)).stdout).toMatch(/^user:\s+alex$/m);
    expect(JSON.parse((await run(['env', '-o', 'json'], env)).stdout)).toEqual([
      { name: 'alex', url: peer.url, current: true },
      { name: 'pooja', url: other.url, current: false },
    ]);

    const unknown = await run(['env', 'nobody'], env);
    expect(unknown.code).toBe(2);
    expect(stderrLines(unknown)).toEqual([expect.stringContaining("unknown context 'nobody'; known: alex, pooja")]);
  });

  it('a rejected token fails (exit 1) with the server error and saves nothing', async () => {
    const config = join(tempDir(), 'config.yaml');
    const r = await run(['login', '--url', peer.url, '--token', 'wrong'], { APIGOV_CONFIG: config });
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual(['apigov: the token is not valid [APIGOV_ERR_AUTH_INVALID_TOKEN]']);
    expect(existsSync(config)).toBe(false);
  });

  it('APIGOV_URL and APIGOV_TOKEN override the current context', async () => {
    const env = { APIGOV_CONFIG: join(tempDir(), 'config.yaml') };
    await run(['login', '--url', peer.url, '--token', 'alex-token'], env);
    const r = await run(['config'], { ...env, APIGOV_URL: other.url, APIGOV_TOKEN: 'pooja-token' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${other.url} (from APIGOV_URL)`);
    expect(r.stdout).toMatch(/^token:\s+from APIGOV_TOKEN$/m);
    expect(r.stdout).toMatch(/^user:\s+pooja@other$/m);
  });

  it('without APIGOV_CONFIG the file is $XDG_CONFIG_HOME/apigov/config.yaml', async () => {
    const xdg = tempDir();
    const r = await run(['login', '--url', peer.url, '--token', 'alex-token', '--context', 'xdg'], { XDG_CONFIG_HOME: xdg });
    expect(r.code).toBe(0);
    expect(YAML.parse(readFileSync(join(xdg, 'apigov', 'config.yaml'), 'utf8')).current).toBe('xdg');
  });

  it('an unreadable config file is a usage error naming it', async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, 'contexts: [not, a, mapping]\n');
    const r = await run(['config'], { APIGOV_CONFIG: config });
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringContaining(`invalid config file ${config}`)]);
  });
});
