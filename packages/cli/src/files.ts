// Reading local files named on the command line: a file that cannot be read is a usage error (exit 2)
// that says which file and why.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { CLI_FILE_UNREADABLE, usageError } from './errors.js';

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (e as Error).message;
}

export async function readLocalFile(path: string, what = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${path}${what}: ${reason(e)}`, CLI_FILE_UNREADABLE);
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    throw usageError(`cannot read ${path}: ${reason(e)}`, CLI_FILE_UNREADABLE);
  }
}

/** A path as the user should read it: relative to the working directory when inside it, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
