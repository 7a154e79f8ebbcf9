// Test helpers: reading fixtures (copied into test/fixtures, see its README) and asserting ApigovErrors.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApigovError, type ErrorCode } from '@apigov/model';
import { expect } from 'vitest';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(path: string): string {
  return readFileSync(join(fixturesDir, path), 'utf8');
}

/** Every file under a fixtures folder, keyed by its path relative to that folder (forward slashes). */
export function fixtureFiles(dir: string): Record<string, string> {
  const root = join(fixturesDir, dir);
  const out: Record<string, string> = {};
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out[relative(root, p).split('\\').join('/')] = readFileSync(p, 'utf8');
    }
  };
  visit(root);
  return out;
}

/** Awaits `promise`, expects it to reject with an ApigovError of `code`, and returns that error. */
export async function expectApigovError(promise: Promise<unknown>, code: ErrorCode): Promise<ApigovError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an ApigovError').toBeInstanceOf(ApigovError);
  const error = caught as ApigovError;
  expect(error.code, error.message).toBe(code);
  return error;
}

/** All `$ref` strings in a value. */
export function refsIn(value: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) v.forEach(visit);
    else
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') out.push(x);
        else visit(x);
      }
  };
  visit(value);
  return out;
}

/** The value at a path of keys (undefined when any step is missing). */
export function dig(value: unknown, ...keys: string[]): unknown {
  let node = value;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** 1-based number of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`'${needle}' not found`);
  return index + 1;
}
