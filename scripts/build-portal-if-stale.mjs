#!/usr/bin/env node
// `npm start` helper: rebuilds the portal only when a file under packages/portal (outside dist) is newer than its
// build, so starting after `npm ci` (which already built it) takes seconds, not a Vite build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'packages', 'portal');
const built = join(root, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(built) || newest(root) > statSync(built).mtimeMs) {
  execFileSync('npm', ['run', 'build', '-w', '@apigov/portal'], { stdio: 'inherit' });
} else {
  console.log('portal build is up to date');
}
