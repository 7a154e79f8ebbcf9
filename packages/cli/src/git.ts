// Git through the git binary, for the commands that read repositories (hooks, sync): running git, a commit's tree
// extracted into a temporary directory, and a mirror of a repository (a path or any URL git clones) kept up to date.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { usageError } from './errors.js';

const run = promisify(execFile);

export async function git(cwd: string, args: string[]): Promise<string> {
  return (await run('git', args, { cwd, maxBuffer: 256 * 1024 * 1024 })).stdout;
}

/** `sha`'s tree (or only `path` in it) extracted into a new temporary directory. */
export async function extractTree(gitDir: string, sha: string, path = ''): Promise<string> {
  if (!/^[0-9a-f]{7,64}$/.test(sha)) throw usageError(`not a commit: ${sha}`);
  const dir = await mkdtemp(join(tmpdir(), 'apigov-git-'));
  const paths = path === '' || path === '.' ? '' : ` -- "$2"`;
  await run('sh', ['-c', `git archive --format=tar ${sha}${paths} | tar -x -C "$1"`, 'sh', dir, path], { cwd: gitDir, maxBuffer: 1024 * 1024 });
  return dir;
}

export interface CommitInfo {
  sha: string;
  author: string;
  subject: string;
}

/**
 * A bare mirror of `repo` under `cacheDir`, fetched now: what `apigov sync` reads commits from, so neither a remote
 * nor a local working tree (with its uncommitted edits) is read directly. Returns the mirror's directory.
 */
export async function fetchMirror(repo: string, cacheDir = join(process.env.APIGOV_HOME ?? join(homedir(), '.apigov'), 'sync')): Promise<string> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^:]+:/.test(repo);
  const source = isUrl || isAbsolute(repo) ? repo : resolve(repo);
  if (!isUrl && !existsSync(source)) throw usageError(`--repo ${repo}: no such directory`);
  const dir = join(cacheDir, createHash('sha256').update(source).digest('hex').slice(0, 16));
  try {
    if (!existsSync(join(dir, 'HEAD'))) {
      await mkdir(cacheDir, { recursive: true });
      await run('git', ['clone', '--quiet', '--mirror', source, dir], { maxBuffer: 1024 * 1024 });
    } else {
      await run('git', ['remote', 'update', '--prune'], { cwd: dir, maxBuffer: 1024 * 1024 });
    }
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim().split('\n').pop();
    throw usageError(`--repo ${repo}: git cannot read it: ${stderr}`);
  }
  return dir;
}

/** The head commit of `branch` in a mirror. */
export async function branchHead(gitDir: string, branch: string): Promise<CommitInfo> {
  let out: string;
  try {
    out = await git(gitDir, ['log', '-1', '--format=%H%x00%an <%ae>%x00%s', `refs/heads/${branch}`, '--']);
  } catch {
    throw usageError(`branch ${branch} does not exist in the repository`);
  }
  const [sha, author, subject] = out.trim().split('\0') as [string, string, string];
  return { sha, author, subject };
}
