// The catalog page's JavaScript budget: the entry chunk named by index.html plus everything it imports
// statically, gzipped, stays under 300 KB; the API reference renderer is not among them (it is a lazy chunk).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PORTAL_DIST } from './harness.js';

const BUDGET = 300 * 1024;
const built = existsSync(join(PORTAL_DIST, 'index.html'));
if (!built && process.env.CI === 'true') throw new Error(`the portal is not built at ${PORTAL_DIST}`);

/** Static imports of an ES module chunk (not `import()`), as paths relative to dist/. */
function staticImports(file: string): string[] {
  const code = readFileSync(join(PORTAL_DIST, file), 'utf8');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[;}\s])import\s*(?:[\w${},*\s]+?from\s*)?["']([^"']+\.js)["']/g)) out.push(posix.join(posix.dirname(file), m[1]));
  return out;
}

function initialScripts(): string[] {
  const html = readFileSync(join(PORTAL_DIST, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<script[^>]*type="module"[^>]*src="\/([^"]+)"/g), ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+)"/g)].map((m) => m[1]);
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...staticImports(f));
  }
  return [...seen];
}

const gz = (file: string) => gzipSync(readFileSync(join(PORTAL_DIST, file))).length;

describe.skipIf(!built)('portal bundle budget', () => {
  it('the catalog page loads under 300 KB of gzipped JavaScript, without the API reference renderer', () => {
    const files = initialScripts();
    expect(files.length).toBeGreaterThan(0);
    const total = files.reduce((n, f) => n + gz(f), 0);
    const renderer = readdirSync(join(PORTAL_DIST, 'assets')).filter((f) => /^Reference-.*\.js$/.test(f));
    expect(renderer).toHaveLength(1);
    console.log(`catalog initial JS: ${files.join(', ')} = ${(total / 1024).toFixed(1)} KB gzipped; renderer chunk ${renderer[0]} = ${(gz(`assets/${renderer[0]}`) / 1024).toFixed(1)} KB gzipped`);
    expect(total).toBeLessThan(BUDGET);
    expect(files.some((f) => f.includes('Reference-'))).toBe(false);
  });
});
