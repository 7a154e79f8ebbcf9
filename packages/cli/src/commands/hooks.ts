// `apigov hooks install`: Git hooks that keep OpenAPI documents honest before they leave a laptop. pre-commit lints
// the staged OpenAPI files (as `apigov validate`); pre-push refuses breaking changes against the upstream's version of
// each changed OpenAPI file, unless the document's major version changed. The hooks call `apigov hooks run`.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { collectSpec } from '../bundle.js';
import { changeLines } from '../changes.js';
import { CliError, EXIT_FAILURE, usageError } from '../errors.js';
import { blockOnFor, isBlocking } from '../gates.js';
import { writeErr, writeOut } from '../output.js';
import { specLibrary } from '../spec.js';
import { extractTree, git } from '../git.js';
import type { Session } from '../session.js';

const MARKER = '# apigov hook: written by `apigov hooks install`';
const HOOKS = ['pre-commit', 'pre-push'] as const;
const ZERO = /^0+$/;
const CANDIDATE = /\.(ya?ml|json)$/i;
/** a $ref to another file (not `#/...`) */
const EXTERNAL_REF = /\$ref["']?\s*:\s*["']?(?!#)[^"'\s#]/;


/** The file's content at a revision (`:path` for the index), or undefined when it is not there. */
async function show(cwd: string, spec: string): Promise<string | undefined> {
  try {
    return await git(cwd, ['show', spec]);
  } catch {
    return undefined;
  }
}

function looksLikeOpenApi(text: string): boolean {
  return /^\s*(openapi|swagger)\s*:/m.test(text) || /"(openapi|swagger)"\s*:/.test(text.slice(0, 4096));
}

function hookScript(node: string, cli: string, hook: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n${MARKER}\n# ${hook}: see \`apigov hooks --help\`. Skip once with git's --no-verify.\nexec ${q(node)} ${q(cli)} hooks run ${hook} "$@"\n`;
}

async function hooksDir(dir: string): Promise<string> {
  let path: string;
  try {
    path = (await git(dir, ['rev-parse', '--git-path', 'hooks'])).trim();
  } catch {
    throw usageError(`${dir} is not a Git repository`);
  }
  return resolve(dir, path);
}

/** Staged OpenAPI files linted like `apigov validate`: errors block. */
async function preCommit(cwd: string): Promise<number> {
  const spec = await specLibrary();
  const files = (await git(cwd, ['diff', '--cached', '--name-only', '--diff-filter=ACMR', '-z'])).split('\0').filter((f) => CANDIDATE.test(f));
  let blocked = 0;
  for (const file of files) {
    const text = await show(cwd, `:${file}`);
    if (text === undefined || !looksLikeOpenApi(text)) continue;
    let findings;
    try {
      // a document that $refs other files is linted bundled, from the working tree (its parts as they are there)
      findings = EXTERNAL_REF.test(text) ? await spec.lintSpec({ document: (await spec.loadSpec((await collectSpec(join(cwd, file))).source)).document }) : await spec.lintSpec({ text });
    } catch (e) {
      writeErr(`apigov pre-commit: ${file}: ${e instanceof Error ? e.message : String(e)}`);
      blocked++;
      continue;
    }
    const blocking = findings.filter((f) => isBlocking(f, blockOnFor(undefined)));
    if (blocking.length === 0) continue;
    blocked++;
    writeErr(`apigov pre-commit: ${file}: ${blocking.length} blocking lint finding${blocking.length > 1 ? 's' : ''}:`);
    for (const f of blocking) writeErr(`  ${f.line ?? '-'}: ${f.rule}: ${f.message}`);
  }
  if (blocked > 0) writeErr(`apigov pre-commit: commit refused (${blocked} file${blocked > 1 ? 's' : ''}); fix them or commit with --no-verify`);
  return blocked > 0 ? EXIT_FAILURE : 0;
}

/** Extracts the tree of `sha` once per hook run (for documents split over several files). */
async function treeOf(cwd: string, sha: string, trees: Map<string, string>): Promise<string> {
  let dir = trees.get(sha);
  if (dir === undefined) {
    dir = await extractTree(cwd, sha);
    trees.set(sha, dir);
  }
  return dir;
}

async function loadAt(cwd: string, sha: string, file: string, text: string, trees: Map<string, string>) {
  const spec = await specLibrary();
  // a single-file document loads from its text; one with references to other files from the commit's tree
  if (!EXTERNAL_REF.test(text)) return spec.loadSpec(text);
  const collected = await collectSpec(join(await treeOf(cwd, sha, trees), file));
  return spec.loadSpec(collected.source);
}

/** Each pushed ref's changed OpenAPI files compared with the remote's version: breaking changes refuse the push unless the major changed. */
async function prePush(cwd: string, stdin: string): Promise<number> {
  const spec = await specLibrary();
  const { majorOf } = await import('@apigov/openapi');
  let refused = 0;
  const trees = new Map<string, string>();
  try {
    for (const line of stdin.split('\n')) {
      const [, localSha, , remoteSha] = line.trim().split(/\s+/);
      if (localSha === undefined || remoteSha === undefined || ZERO.test(localSha)) continue; // a deleted ref
      let base = remoteSha;
      if (ZERO.test(remoteSha)) {
        // a new branch: compare with what its upstream (or the default remote branch) has
        base = (await git(cwd, ['merge-base', localSha, '@{u}']).catch(() => git(cwd, ['merge-base', localSha, 'origin/HEAD']).catch(() => ''))).trim();
        if (base === '') continue;
      }
      const changed = (await git(cwd, ['diff', '--name-only', '--diff-filter=MR', '-z', base, localSha])).split('\0').filter((f) => CANDIDATE.test(f));
      let files = changed;
      // a changed file that is not a document itself may be a part other documents $ref: check every document then
      const fragments = [];
      for (const f of changed) if (!looksLikeOpenApi((await show(cwd, `${localSha}:${f}`)) ?? '')) fragments.push(f);
      if (fragments.length > 0) files = (await git(cwd, ['ls-tree', '-r', '--name-only', '-z', localSha])).split('\0').filter((f) => CANDIDATE.test(f));
      for (const file of files) {
        const before = await show(cwd, `${base}:${file}`);
        const after = await show(cwd, `${localSha}:${file}`);
        if (before === undefined || after === undefined || !looksLikeOpenApi(after) || !looksLikeOpenApi(before)) continue;
        let a;
        let b;
        try {
          // a document whose $refs reach other files is read from a checkout of each commit (git archive)
          [a, b] = [await loadAt(cwd, base, file, before, trees), await loadAt(cwd, localSha, file, after, trees)];
        } catch (e) {
          writeErr(`apigov pre-push: ${file}: ${e instanceof Error ? e.message : String(e)}`);
          refused++;
          continue;
        }
        const [majorA, majorB] = [majorOf(a.version), majorOf(b.version)];
        if (majorA !== undefined && majorB !== undefined && majorA !== majorB) {
          writeOut(`apigov pre-push: ${file}: new major version ${a.version} → ${b.version}; breaking changes allowed\n`);
          continue;
        }
        const breaking = spec.diffOpenApi(a.document, b.document).filter((c) => c.level === 'breaking');
        if (breaking.length === 0) continue;
        refused++;
        writeErr(`apigov pre-push: ${file}: ${breaking.length} breaking change${breaking.length > 1 ? 's' : ''} against ${base.slice(0, 12)} (info.version ${a.version} → ${b.version}):`);
        writeErr(changeLines(breaking).trimEnd());
      }
    }
  } finally {
    for (const dir of trees.values()) await rm(dir, { recursive: true, force: true });
  }
  if (refused > 0) writeErr(`apigov pre-push: push refused: make the change compatible, or bump the major of info.version for a new major version (skip once with --no-verify)`);
  return refused > 0 ? EXIT_FAILURE : 0;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerHookCommands(program: Command, session: Session): void {
  const hooks = program.command('hooks').description('Git hooks: lint OpenAPI files at commit, refuse breaking changes at push');
  hooks
    .command('install')
    .description('write the pre-commit and pre-push hooks into a Git repository')
    .option('--dir <repo>', 'the repository (default: the current directory)', '.')
    .option('--force', 'replace hooks that apigov did not write')
    .action(
      session.action(async (opts: { dir: string; force?: boolean }) => {
        const dir = await hooksDir(resolve(opts.dir));
        await mkdir(dir, { recursive: true });
        const cli = fileURLToPath(new URL('../../bin/apigov.js', import.meta.url));
        for (const hook of HOOKS) {
          const path = join(dir, hook);
          const existing = await readFile(path, 'utf8').catch(() => undefined);
          if (existing !== undefined && !existing.includes(MARKER) && !opts.force) {
            throw new CliError('APIGOV_ERR_CLI_USAGE', `${path} exists and was not written by apigov; pass --force to replace it`, { exitCode: 2 });
          }
        }
        for (const hook of HOOKS) {
          const path = join(dir, hook);
          await writeFile(path, hookScript(process.execPath, cli, hook));
          await chmod(path, 0o755);
          writeOut(`installed ${path}\n`);
        }
      }),
    );
  hooks
    .command('run')
    .description('run a hook (what the installed hooks call)')
    .argument('<hook>', 'pre-commit or pre-push')
    .argument('[args...]', "git's arguments to the hook")
    .action(
      session.action(async (hook: string) => {
        const cwd = (await git(process.cwd(), ['rev-parse', '--show-toplevel'])).trim();
        if (hook === 'pre-commit') return preCommit(cwd);
        if (hook === 'pre-push') return prePush(cwd, await readStdin());
        throw usageError(`unknown hook '${hook}' (expected pre-commit or pre-push)`);
      }),
    );
}
