// The README's walkthroughs run as written, command by command, against `apigov up --demo`: "Five minutes with the
// CLI", "Breaking changes, changelogs and Git hooks", "Backstage", "Envoy Gateway", "GitOps", "Tokens for automation, and failed sign-ins", "Rights per environment", "Single sign-on and SCIM" and "Events and webhooks". Only the control plane's URL is replaced (the demo runs on
// free ports), and the audit anchor placeholder by the anchor `audit verify` printed. A command marked `# exits N` must
// exit N; every other one must exit 0.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../browser/harness.js';
import { ROOT } from './harness.js';

interface Step {
  line: string;
  command: string;
  exits: number;
}

/** The ```sh blocks under a README heading, as steps; assignments and function definitions become the preamble. */
function walkthrough(heading: string): { preamble: string[]; steps: Step[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README has no section '${heading}'`);
  const end = readme.indexOf('\n## ', start + 4);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const preamble: string[] = [];
  const steps: Step[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const comment = / {2,}#\s(.*)$/.exec(line);
      const command = comment === null ? line : line.slice(0, comment.index).trim();
      if (/^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(command) || /^[a-z_]+\(\) \{/.test(command)) {
        preamble.push(command);
        continue;
      }
      const exits = comment === null ? 0 : Number(/exits (\d)/.exec(comment[1])?.[1] ?? 0);
      steps.push({ line, command, exits });
    }
  }
  return { preamble, steps };
}

let demo: Demo;
let work: string;
let anchor = '';

function sh(preamble: string[], command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [...preamble, command].join('\n');
  const env = { PATH: process.env.PATH ?? '', HOME: work, APIGOV_CONFIG: join(work, 'config.yaml'), NO_COLOR: '1', CI: process.env.CI ?? '' };
  return new Promise((ok) => {
    execFile('bash', ['-c', script], { cwd: work, env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      ok({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

beforeAll(async () => {
  demo = await startDemo();
  // the README's paths are relative to a checkout: the demo's data directory where `npm start` keeps it
  work = mkdtempSync(join(tmpdir(), 'apigov-readme-'));
  mkdirSync(join(work, '.apigov'));
  symlinkSync(demo.dir, join(work, '.apigov', 'data'));
  for (const name of ['examples', 'node_modules', 'packages', 'package.json']) symlinkSync(join(ROOT, name), join(work, name));
  await new Promise<void>((ok, fail) => execFile('git', ['init', '-q', work], (e) => (e ? fail(e) : ok())));
}, 180_000);

afterAll(async () => {
  await demo?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const heading of ['Five minutes with the CLI', 'Breaking changes, changelogs and Git hooks', 'Backstage', 'Envoy Gateway', 'GitOps', 'Tokens for automation, and failed sign-ins', 'Rights per environment', 'Single sign-on and SCIM', 'Events and webhooks']) {
  describe(`README: ${heading}`, () => {
    const { preamble, steps } = walkthrough(heading);
    it('has commands to run', () => {
      expect(steps.length).toBeGreaterThan(1);
    });
    for (const step of steps) {
      it(step.line, async () => {
        let command = step.command.replaceAll('http://127.0.0.1:4000', demo.url);
        if (command.includes('--anchor')) {
          expect(anchor, 'audit verify printed an anchor before').toMatch(/^\d+:[0-9a-f]{64}$/);
          command = command.replace(/--anchor \S+/, `--anchor ${anchor}`);
        }
        const r = await sh(preamble.map((p) => p.replaceAll('http://127.0.0.1:4000', demo.url)), command);
        expect(r.code, `${command}\n${r.stdout}\n${r.stderr}`).toBe(step.exits);
        if (step.exits !== 0) expect(r.stdout + r.stderr).not.toBe('');
        const printed = /anchor: (\d+:[0-9a-f]{64})/.exec(r.stdout);
        if (printed) anchor = printed[1];
      }, 120_000);
    }
  });
}
