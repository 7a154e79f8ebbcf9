// `apigov breaking` on local files (exit codes, -o json/markdown, bad input) and `apigov hooks install` in a real
// local Git repository pushing to a real bare remote: lint at commit, breaking changes refused at push, a new major let through.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { FIXTURES, ROOT, run, tempDir } from './helpers.js';

const PAYMENTS = join(ROOT, 'examples', 'payments', 'openapi.yaml');

/** payments with `GET /payments`' query parameter `status` made required and a response property of Payment removed. */
function breakingEdit(text: string, version?: string): string {
  const doc = YAML.parse(text);
  const params = doc.paths['/payments'].get.parameters as Array<Record<string, unknown>>;
  const status = params.find((p) => p.name === 'status');
  if (status) status.required = true;
  else params.push({ name: 'status', in: 'query', required: true, schema: { type: 'string' } });
  delete doc.components.schemas.Payment.properties.description;
  if (version !== undefined) doc.info.version = version;
  return YAML.stringify(doc);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function gitResult(cwd: string, ...args: string[]): { code: number; output: string } {
  try {
    const out = execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output: out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, output: `${err.stdout}${err.stderr}` };
  }
}

describe('apigov breaking on files', () => {
  it('lists each change with its rule, and exits 1 when one is breaking (json gives the documented shape)', async () => {
    const dir = tempDir();
    const revision = join(dir, 'revision.yaml');
    writeFileSync(revision, breakingEdit(readFileSync(PAYMENTS, 'utf8')));
    const table = await run(['breaking', PAYMENTS, revision]);
    expect(table.code, table.stderr).toBe(1);
    expect(table.stdout).toMatch(/breaking\s+GET \/payments\s+request-parameter-became-required\s+query parameter 'status' became required/);
    const json = await run(['breaking', PAYMENTS, revision, '-o', 'json']);
    expect(json.code).toBe(1);
    const { changes } = JSON.parse(json.stdout) as { changes: Array<Record<string, unknown>> };
    expect(Object.keys(changes[0]).sort()).toEqual(['base', 'fingerprint', 'id', 'level', 'migration', 'operation', 'revision', 'text']);
    expect(changes.map((c) => `${c.level} ${c.id}`)).toEqual(expect.arrayContaining(['breaking request-parameter-became-required', 'breaking response-property-removed']));
    const md = await run(['breaking', PAYMENTS, revision, '-o', 'markdown']);
    expect(md.stdout).toMatch(/^## `GET \/payments`$/m);
    expect(md.stdout).toMatch(/Migration: Send the query parameter 'status' in every request\./);
  });

  it('exits 0 for a document against itself, and with --fail-on warning only when a warning is there', async () => {
    expect((await run(['breaking', PAYMENTS, PAYMENTS])).code).toBe(0);
    const dir = tempDir();
    const revision = join(dir, 'revision.yaml');
    const doc = YAML.parse(readFileSync(PAYMENTS, 'utf8'));
    doc.paths['/payments'].get.operationId = 'listAllPayments';
    writeFileSync(revision, YAML.stringify(doc));
    expect((await run(['breaking', PAYMENTS, revision])).code).toBe(0);
    const strict = await run(['breaking', PAYMENTS, revision, '--fail-on', 'warning']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/operation-id-changed/);
  });

  it('an unreadable or invalid document is one line and exit 2', async () => {
    const missing = await run(['breaking', PAYMENTS, '/nonexistent/api.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const garbage = await run(['breaking', join(FIXTURES, 'garbage.yaml'), PAYMENTS]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/^apigov: base .*\[APIGOV_ERR_SPEC_/);
    const notOpenApi = await run(['breaking', PAYMENTS, join(FIXTURES, 'not-openapi.yaml')]);
    expect(notOpenApi.code).toBe(2);
    expect((await run(['breaking', PAYMENTS, PAYMENTS, '--fail-on', 'nonsense'])).code).toBe(2);
  });
});

describe('apigov hooks install in a real Git repository', () => {
  it('lints OpenAPI files at commit and refuses a breaking push, but lets a new major version through', async () => {
    const dir = tempDir();
    const remote = join(dir, 'remote.git');
    const repo = join(dir, 'repo');
    git(dir, 'init', '-q', '--bare', remote);
    git(dir, 'init', '-q', repo);
    git(repo, 'config', 'user.email', 'alex@example.com');
    git(repo, 'config', 'user.name', 'alex');
    git(repo, 'remote', 'add', 'origin', remote);
    const original = readFileSync(PAYMENTS, 'utf8');
    writeFileSync(join(repo, 'openapi.yaml'), original);
    writeFileSync(join(repo, 'README.md'), 'payments\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'payments v1');
    git(repo, 'push', '-q', '-u', 'origin', 'HEAD:main');

    const install = await run(['hooks', 'install', '--dir', repo]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toMatch(/installed .*pre-commit/);
    expect(install.stdout).toMatch(/installed .*pre-push/);
    // installing again is fine; a hook apigov did not write is kept unless --force
    expect((await run(['hooks', 'install', '--dir', repo])).code).toBe(0);

    // pre-commit: a staged OpenAPI file with blocking lint findings is refused, other files pass
    writeFileSync(join(repo, 'ledger.yaml'), readFileSync(join(FIXTURES, 'bad.openapi.yaml'), 'utf8'));
    git(repo, 'add', 'ledger.yaml');
    const badCommit = gitResult(repo, 'commit', '-q', '-m', 'ledger');
    expect(badCommit.code).not.toBe(0);
    expect(badCommit.output).toMatch(/apigov pre-commit: ledger\.yaml: \d+ blocking lint finding/);
    git(repo, 'reset', '-q', 'ledger.yaml');

    // a breaking edit commits (it lints clean) but is refused at push, naming what breaks
    writeFileSync(join(repo, 'openapi.yaml'), breakingEdit(original));
    git(repo, 'commit', '-q', '-a', '-m', 'status is required now');
    const refused = gitResult(repo, 'push', 'origin', 'HEAD:main');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/apigov pre-push: openapi\.yaml: \d+ breaking changes? against/);
    expect(refused.output).toMatch(/GET \/payments: query parameter 'status' became required/);
    expect(git(remote, 'log', '--format=%s', 'main').trim()).toBe('payments v1');

    // the same change as a new major version goes through
    writeFileSync(join(repo, 'openapi.yaml'), breakingEdit(original, '2.0.0'));
    git(repo, 'commit', '-q', '-a', '--amend', '-m', 'payments v2');
    const pushed = gitResult(repo, 'push', 'origin', 'HEAD:main');
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).toMatch(/new major version 1\.0\.0 → 2\.0\.0/);
    expect(git(remote, 'log', '--format=%s', 'main').trim().split('\n')[0]).toBe('payments v2');
  });

  it('checks a document split over several files when only a file it $refs changed', async () => {
    const dir = tempDir();
    const remote = join(dir, 'remote.git');
    const repo = join(dir, 'repo');
    git(dir, 'init', '-q', '--bare', remote);
    git(dir, 'init', '-q', repo);
    git(repo, 'config', 'user.email', 'alex@example.com');
    git(repo, 'config', 'user.name', 'alex');
    git(repo, 'remote', 'add', 'origin', remote);
    const api = (version: string) => [
      'openapi: 3.0.3',
      `info: {title: Pets, version: '${version}', contact: {name: Pets team, email: pets@example.com}}`,
      'security: [{key: []}]',
      'paths:',
      '  /pets:',
      '    post:',
      '      operationId: createPet',
      '      summary: Create a pet',
      "      requestBody: {required: true, content: {application/json: {schema: {$ref: 'schemas/pet.yaml'}}}}",
      "      responses: {'201': {description: created}, '400': {description: bad}, '500': {description: failed}}",
      'components:',
      '  securitySchemes: {key: {type: apiKey, in: header, name: x-api-key}}',
      '',
    ].join('\n');
    mkdirSync(join(repo, 'schemas'));
    writeFileSync(join(repo, 'openapi.yaml'), api('1.0.0'));
    writeFileSync(join(repo, 'schemas', 'pet.yaml'), 'type: object\nproperties:\n  name: {type: string}\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'pets');
    git(repo, 'push', '-q', '-u', 'origin', 'HEAD:main');
    expect((await run(['hooks', 'install', '--dir', repo])).code).toBe(0);
    writeFileSync(join(repo, 'schemas', 'pet.yaml'), 'type: object\nrequired: [name, species]\nproperties:\n  name: {type: string}\n  species: {type: string}\n');
    git(repo, 'commit', '-q', '-a', '-m', 'species is required');
    const refused = gitResult(repo, 'push', 'origin', 'HEAD:main');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/apigov pre-push: openapi\.yaml: 2 breaking changes/);
    expect(refused.output).toMatch(/request property 'species' \(application\/json\) added as required/);
  });

  it('keeps a hook it did not write unless --force, and refuses a directory that is not a repository', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(join(repo, '.git', 'hooks', 'pre-push'), '#!/bin/sh\nexit 0\n');
    const kept = await run(['hooks', 'install', '--dir', repo]);
    expect(kept.code).toBe(2);
    expect(kept.stderr).toMatch(/was not written by apigov; pass --force/);
    expect(readFileSync(join(repo, '.git', 'hooks', 'pre-push'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect((await run(['hooks', 'install', '--dir', repo, '--force'])).code).toBe(0);
    expect(readFileSync(join(repo, '.git', 'hooks', 'pre-push'), 'utf8')).toMatch(/apigov hook/);
    const notRepo = await run(['hooks', 'install', '--dir', tempDir()]);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toMatch(/is not a Git repository/);
  });
});
