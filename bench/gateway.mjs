#!/usr/bin/env node
// bench/gateway: the gateway's throughput, latency and CPU cost next to nginx, in one run on this machine.
//
// Targets, all on 127.0.0.1, all in front of the same upstream (nginx, one worker, `return 200 '{"ok":true}'`):
//   direct          wrk → upstream (the floor; no proxy)
//   nginx           wrk → nginx keep-alive reverse proxy (one worker) → upstream
//   apigov          wrk → one `apigov gateway` process (node packages/gateway/dist/main.js --snapshot-file …) → upstream
//   apigov-cluster  the same with --workers 2
// apigov runs with API-key auth, a required subscription whose plan has a rate limit that never triggers, request
// validation (a GET operation whose query parameters are checked by ajv), metrics and the JSON access log (to a file).
// The snapshot is built here the way the control plane builds it, checked with model's `gatewaySnapshot` and hashed
// with the gateway's `computeSnapshotHash`.
//
// Each round measures every target (order rotated per round), each measurement being:
//   closed loop  wrk, 1 thread, N keep-alive connections, after a short warm-up: requests/s, p50/p99, and the
//                proxy's CPU (utime+stime from /proc/<pid>/stat of its whole process tree) per request;
//   fixed rate   an open-loop client (undici, a child process) at R requests/s: p50/p99 measured from the moment each
//                request is handed to the client (Debian has no wrk2), after a 2 s warm-up at the same rate.
// Figures are medians over the rounds. CPU used by processes that are not part of the bench is shown per measurement:
// each one first waits (briefly, within a budget) for other processes to quiet down, and a measurement they disturbed
// (> 25% of a core) is taken again, up to 2 times per run; the summary says when the machine was not quiet.
// Then (unless --no-scale; `--scale` runs only this part) one fresh gateway process (startGateway, in a child) loads a
// snapshot of 10,000 routes (3 operations each, with their own schemas) and 100,000 API keys: its RSS after the load
// and the background compile of its request validators (/proc VmRSS after gc and a pause), the time of that
// applySnapshot (JSON text → parsed, verified, compiled, swapped) and until every validator is compiled, and the time
// of the next one (the same snapshot plus one key).
//
// Usage: npm run bench:gateway [-- --rounds 3 --duration 6 --connections 32 --rate 2000 --rate-duration 8 --no-scale]
//        node bench/gateway.mjs --scale [--scale-schemas per-api|shared]   only the snapshot-size part
//        node bench/gateway.mjs --profile [--keep-tmp]                     only a CPU profile of one apigov process
// Needs wrk and nginx (installed with apt-get when missing). Ends with one JSON line.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { stallMeter } from './stall-meter.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = dirname(dirname(SELF));


// ───────────────────────────────────────────── the orchestrator ─────────────────────────────────────────────

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '32' },
      rate: { type: 'string', default: '2000' },
      'rate-duration': { type: 'string', default: '8' },
      scale: { type: 'boolean', default: false },
      'no-scale': { type: 'boolean', default: false },
      'scale-routes': { type: 'string', default: '10000' },
      'scale-keys': { type: 'string', default: '100000' },
      // per-api: every API version has its own schemas (10,000 × 2 distinct validators); shared: all the same (ajv compiles once)
      'scale-schemas': { type: 'string', default: 'per-api' },
      'keep-tmp': { type: 'boolean', default: false },
      // only profile one apigov gateway process under wrk load (node --cpu-prof) and print its hot spots
      profile: { type: 'boolean', default: false },
    },
  });
  const cfg = {
    rounds: Number(values.rounds),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
    rate: Number(values.rate),
    rateDuration: Number(values['rate-duration']),
    scaleRoutes: Number(values['scale-routes']),
    scaleKeys: Number(values['scale-keys']),
    scaleSchemas: values['scale-schemas'] === 'shared' ? 'shared' : 'per-api',
  };
  const runLoad = !values.scale && !values.profile;
  const runScale = !values.profile && (values.scale || !values['no-scale']);

  const dir = mkdtempSync(join(tmpdir(), 'apigov-bench-gw-'));
  const procs = new Set();
  let cleaning;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await stopAll(procs);
      if (!values['keep-tmp']) rmSync(dir, { recursive: true, force: true });
    })());
  let interrupted = false;
  const onSignal = (sig) => {
    interrupted = true;
    process.stderr.write(`\nbench/gateway: ${sig}, stopping everything\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // everything is bounded: a run that hangs anyway is stopped
  const perMeasurementS = cfg.warmup + cfg.duration + cfg.rateDuration + 10;
  const budgetS = (runLoad ? (cfg.rounds * 4 + 2) * perMeasurementS + 30 + 90 : 0) + (runScale ? 300 : 0) + (values.profile ? 90 : 0);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench/gateway: still running after ${budgetS} s, giving up\n`);
    void cleanup().finally(() => process.exit(1));
  }, budgetS * 1000);

  try {
    const tools = ensureTools(runLoad || values.profile);
    const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    const ctx = { dir, procs, tools, clkTck, cfg, keepTmp: values['keep-tmp'] };
    const upstream = await startNginx(ctx, 'upstream', (port) => `location / { default_type application/json; return 200 '{"ok":true}'; }`);
    const result = {};
    if (values.profile) {
      await profileGateway(ctx, upstream);
      return;
    }
    if (runLoad) Object.assign(result, await loadBench(ctx, upstream));
    if (runScale) Object.assign(result, await scaleBench(ctx, upstream));
    console.log(JSON.stringify(result));
  } catch (err) {
    if (!interrupted) throw err;
    await cleanup();
    process.exit(130); // what failed was stopped by the signal
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

function which(bin) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    if (d !== '' && existsSync(join(d, bin))) return join(d, bin);
  }
  return undefined;
}

function aptInstall(candidates) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (args) => execFileSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  for (const attempt of [false, true]) {
    if (attempt) run(['update', '-q']);
    for (const pkg of candidates) {
      try {
        run(['install', '-y', '-q', '--no-install-recommends', pkg]);
        return;
      } catch {
        /* next candidate, or after apt-get update */
      }
    }
  }
  throw new Error(`could not install any of ${candidates.join(', ')} with apt-get`);
}

function ensureTools(needWrk) {
  let nginx = which('nginx');
  if (nginx === undefined) {
    console.log('installing nginx (apt-get install nginx-light)…');
    aptInstall(['nginx-light', 'nginx']);
    nginx = which('nginx');
  }
  let wrk = which('wrk');
  if (needWrk && wrk === undefined) {
    console.log('installing wrk (apt-get install wrk)…');
    aptInstall(['wrk']);
    wrk = which('wrk');
  }
  if (nginx === undefined || (needWrk && wrk === undefined)) throw new Error('nginx and wrk are needed');
  return { nginx, wrk };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** spawns a long-running child, tracked for cleanup; stdout/stderr go to files in the temp dir */
function startProcess(ctx, name, cmd, args, opts = {}) {
  const out = join(ctx.dir, `${name}.out`);
  writeFileSync(out, '');
  const fd = openSync(out, 'a');
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, ...opts.env } });
  closeSync(fd);
  const p = { name, child, pid: child.pid, out, exited: false, code: undefined };
  child.on('exit', (code, signal) => {
    p.exited = true;
    p.code = code ?? signal;
  });
  ctx.procs.add(p);
  return p;
}

async function stopAll(procs) {
  for (const child of transient) child.kill('SIGKILL');
  const list = [...procs].reverse();
  const trees = new Map(list.map((p) => [p, p.exited ? [] : processTree(p.pid)]));
  for (const p of list) if (!p.exited) p.child.kill('SIGTERM');
  const deadline = Date.now() + 8000;
  while (list.some((p) => !p.exited) && Date.now() < deadline) await sleep(50);
  for (const p of list) {
    for (const pid of trees.get(p)) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  procs.clear();
}

function tail(file, n = 20) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

function nginxConf(ctx, name, port, body, extraHttp = '') {
  const d = join(ctx.dir, name);
  mkdirSync(join(d, 'tmp'), { recursive: true });
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(d, 'tmp', t)};`).join('\n    ');
  const conf = `# ${name}: written by bench/gateway.mjs
worker_processes 1;
daemon off;
pid ${join(d, 'nginx.pid')};
error_log ${join(d, 'error.log')} warn;
events { worker_connections 4096; multi_accept on; }
http {
    access_log off;
    ${temps}
    keepalive_timeout 65s;
    keepalive_requests 100000000;
    ${extraHttp}
    server {
        listen 127.0.0.1:${port} backlog=4096;
        ${body}
    }
}
`;
  const file = join(d, 'nginx.conf');
  writeFileSync(file, conf);
  return { d, file };
}

async function startNginx(ctx, name, location, extraHttp) {
  const port = await freePort();
  const { d, file } = nginxConf(ctx, name, port, location(port), extraHttp);
  execFileSync(ctx.tools.nginx, ['-t', '-q', '-p', d, '-e', join(d, 'error.log'), '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p = startProcess(ctx, name, ctx.tools.nginx, ['-p', d, '-e', join(d, 'error.log'), '-c', file]);
  await waitFor(async () => (await get(`http://127.0.0.1:${port}/`)).status === 200, 10_000, `${name} (nginx) did not answer on port ${port}: ${tail(join(d, 'error.log'))}`, p);
  // the worker is a child of the master; wait until it is there
  await waitFor(async () => processTree(p.pid).length >= 2, 5000, `${name}: no nginx worker`, p);
  return Object.assign(p, { port, url: `http://127.0.0.1:${port}` });
}

async function waitFor(check, ms, message, proc) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc?.exited) throw new Error(`${message}\n${proc.name} exited (${proc.code}): ${tail(proc.out)}`);
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${message}${proc ? `\n${tail(proc.out)}` : ''}`);
    await sleep(50);
  }
}

async function get(url, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body };
}

// ── /proc ──

function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (s !== '') out.push(...s.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

/** pid and all its descendants */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]));
  return out;
}

/** utime+stime (clock ticks) of a process; with `reaped` also cutime+cstime (children it has waited for) */
function cpuTicks(pid, reaped = false) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
    return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}

function treeTicks(pids) {
  let t = 0;
  for (const pid of pids) t += cpuTicks(pid);
  return t;
}

/**
 * CPU ticks (utime+stime) of every user-space process that is not one of `ours` (nor this process and what it
 * spawned), by pid. Kernel threads are left out (ksoftirqd carries the loopback traffic of the bench itself).
 * Between two samples: processes seen in both count their difference, new ones all they used; ones that ended in
 * between are missed, so this is a lower bound.
 */
function otherTicks(ours) {
  const skip = new Set([...ours, ...processTree(process.pid)]);
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || skip.has(pid)) continue;
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (f[1] === '2' || pid === 2) continue; // children of kthreadd
      out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** what other processes used between two otherTicks() samples, in cores (1 = one core busy all the time) */
function otherLoad(a, b, seconds, clkTck) {
  let t = 0;
  for (const [pid, ticks] of b) t += ticks - (a.get(pid) ?? 0);
  return t / (seconds * clkTck);
}

function vmRssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** more CPU than this (in cores) used by other processes during a window makes a measurement noisy */
const NOISY = 0.25;

/** one measurement of one target: warm-up, closed loop (wrk), fixed rate (rate child) */
async function measure(ctx, t, pids, everything, quiet, round) {
  const { cfg } = ctx;
  const waited = await waitForQuiet(ctx, everything, quiet);
  await wrk(ctx, t.url, cfg.warmup, false);
  const tickUs = 1e6 / ctx.clkTck;
  // closed loop
  const s0 = { proxy: treeTicks(pids), other: otherTicks(everything), at: performance.now() };
  const w = parseWrk(await wrk(ctx, t.url, cfg.duration));
  const s1 = { proxy: treeTicks(pids), other: otherTicks(everything), at: performance.now() };
  // fixed rate
  const f0 = { proxy: treeTicks(pids), other: otherTicks(everything), at: performance.now() };
  const f = await fixedRate(ctx, t.url);
  const f1 = { proxy: treeTicks(pids), other: otherTicks(everything), at: performance.now() };
  return {
    round,
    waited,
    rps: w.rps,
    p50: w.p50,
    p99: w.p99,
    cpuUs: t.proc === undefined ? NaN : ((s1.proxy - s0.proxy) * tickUs) / w.requests,
    bad: w.non2xx + w.errors + f.non2xx + f.errors,
    rateP50: f.p50,
    rateP99: f.p99,
    rateAchieved: f.achievedRate,
    rateCpuUs: t.proc === undefined ? NaN : ((f1.proxy - f0.proxy) * tickUs) / f.sent,
    other: otherLoad(s0.other, s1.other, (s1.at - s0.at) / 1000, ctx.clkTck),
    rateOther: otherLoad(f0.other, f1.other, (f1.at - f0.at) / 1000, ctx.clkTck),
  };
}

/** waits until processes outside `ours` use < 15% of a core over 0.5 s (at most 10 s, and within quiet.budgetMs) */
async function waitForQuiet(ctx, ours, quiet) {
  const start = performance.now();
  for (;;) {
    const a = otherTicks(ours);
    await sleep(500);
    const load = otherLoad(a, otherTicks(ours), 0.5, ctx.clkTck);
    const waited = performance.now() - start - 500;
    if (load < 0.15 || waited >= 10_000 || quiet.waitedMs + waited >= quiet.budgetMs) {
      quiet.waitedMs += Math.max(0, waited);
      return waited >= 100 ? waited : 0;
    }
  }
}

// ── load generators ──

/** short-lived children (wrk, the fixed-rate client): killed on the way out too */
const transient = new Set();

function runCommand(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    transient.add(child);
    child.on('exit', () => transient.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} → ${code ?? signal}: ${err || out}`));
    });
  });
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000 };
function parseDurationMs(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
}

function parseWrk(out) {
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseDurationMs(m[1]) : NaN;
  };
  const req = /(\d+) requests in ([\d.]+)(\w+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: req ? Number(req[1]) : NaN,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: pct(50),
    p99: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

function wrk(ctx, url, seconds, latency = true) {
  const args = ['-t1', `-c${ctx.cfg.connections}`, `-d${seconds}s`, '--timeout', '2s', '-H', `x-api-key: ${ctx.apiKey}`, ...(latency ? ['--latency'] : []), url];
  return runCommand(ctx.tools.wrk, args, (seconds + 15) * 1000);
}

async function fixedRate(ctx, url) {
  const spec = { url, headers: { 'x-api-key': ctx.apiKey }, rate: ctx.cfg.rate, warmupMs: 2000, durationMs: ctx.cfg.rateDuration * 1000, connections: ctx.cfg.connections };
  const out = await runCommand(process.execPath, [SELF, '--rate-child', JSON.stringify(spec)], spec.warmupMs + spec.durationMs + 20_000);
  return JSON.parse(out.trim().split('\n').pop());
}

// ── the load part ──

const sha256 = (s) => createHash('sha256').update(s).digest('hex');

async function loadBench(ctx, upstream) {
  const { cfg } = ctx;
  // the snapshot, as the control plane compiles it for environment `bench`
  const snapshotFile = await writeBenchSnapshot(ctx, upstream);
  const path = '/bench/v1/items?limit=10&q=bench';

  const proxy = await startNginx(
    ctx,
    'nginx-proxy',
    () => `location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
    `upstream bench_upstream { server 127.0.0.1:${upstream.port}; keepalive 64; keepalive_requests 100000000; keepalive_timeout 65s; }`,
  );
  const apigov = await startApigov(ctx, 'apigov', snapshotFile, 1);
  const cluster = await startApigov(ctx, 'apigov-cluster', snapshotFile, 2);

  const targets = [
    { name: 'direct', url: `${upstream.url}${path}`, proc: undefined },
    { name: 'nginx', url: `${proxy.url}${path}`, proc: proxy },
    { name: 'apigov', url: `${apigov.url}${path}`, proc: apigov },
    { name: 'apigov-cluster', url: `${cluster.url}${path}`, proc: cluster },
  ];
  // every target answers the bench request with the upstream's 200; apigov really authenticates, limits and validates
  for (const t of targets) {
    const r = await get(t.url, { 'x-api-key': ctx.apiKey });
    if (r.status !== 200 || r.body !== '{"ok":true}') throw new Error(`${t.name}: GET ${t.url} → ${r.status} ${r.body.slice(0, 300)}`);
    if (t.name.startsWith('apigov')) {
      if (r.headers.get('ratelimit-limit') === null) throw new Error(`${t.name}: no RateLimit-Limit header: the plan's rate limit did not run`);
      const base = t.url.slice(0, t.url.indexOf('/bench/'));
      const noKey = await get(t.url);
      const badKey = await get(t.url, { 'x-api-key': randomBytes(32).toString('base64url') });
      const invalid = await get(`${base}/bench/v1/items?limit=1000`, { 'x-api-key': ctx.apiKey });
      if (noKey.status !== 401 || badKey.status !== 401 || invalid.status !== 400 || !invalid.body.includes('limit'))
        throw new Error(`${t.name}: policies are not enforced: no key → ${noKey.status}, unknown key → ${badKey.status}, limit=1000 → ${invalid.status} ${invalid.body.slice(0, 200)}`);
    }
  }
  console.log(`targets ready: upstream ${upstream.url} (nginx ${nginxVersion(ctx)}, 1 worker); nginx proxy ${proxy.url}; apigov ${apigov.url} (pid ${apigov.pid}); apigov cluster ${cluster.url} (pids ${processTree(cluster.pid).join(',')})`);
  console.log(`load: wrk -t1 -c${cfg.connections} -d${cfg.duration}s after ${cfg.warmup} s warm-up; fixed rate ${cfg.rate} req/s for ${cfg.rateDuration} s (undici, open loop) after a 2 s warm-up at that rate; ${cfg.rounds} rounds, order rotated; GET ${path} with x-api-key`);

  const allTrees = () => [...processTree(upstream.pid), ...processTree(proxy.pid), ...processTree(apigov.pid), ...processTree(cluster.pid)];
  const results = Object.fromEntries(targets.map((t) => [t.name, []]));
  // other sessions may share this machine: each measurement waits (up to 10 s, 30 s over the whole run) until the
  // processes that are not the bench's use less than 15% of a core, and up to 2 disturbed measurements are taken again
  const quiet = { budgetMs: 30_000, waitedMs: 0, retries: 2 };
  const foreign = [];
  for (let round = 0; round < cfg.rounds; round++) {
    const order = targets.map((_t, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      const pids = t.proc === undefined ? [] : processTree(t.proc.pid);
      const everything = allTrees();
      for (const p of [upstream, proxy, apigov, cluster]) if (p.exited) throw new Error(`${p.name} exited (${p.code}): ${tail(p.out)}`);
      // a measurement disturbed by other processes (over NOISY of a core, in either window) is taken again, within a budget
      let m;
      for (let attempt = 1; ; attempt++) {
        m = await measure(ctx, t, pids, everything, quiet, round);
        const noisy = Math.max(m.other, m.rateOther) > NOISY;
        console.log(
          `  round ${round + 1} ${t.name.padEnd(14)} ${fmt(m.rps, 0).padStart(7)} req/s  p50 ${fmt(m.p50, 2)} ms  p99 ${fmt(m.p99, 2)} ms  cpu ${t.proc ? fmt(m.cpuUs, 1) : 'n/a'} µs/req | ${fmt(m.rateAchieved, 0)} req/s: p50 ${fmt(m.rateP50, 2)} ms  p99 ${fmt(m.rateP99, 2)} ms${m.bad ? `  FAILED ${m.bad}` : ''}  (other processes: ${fmt(m.other * 100, 0)}% / ${fmt(m.rateOther * 100, 0)}% of a core${m.waited > 0 ? `; waited ${fmt(m.waited / 1000, 1)} s for quiet` : ''})${noisy && quiet.retries > 0 ? ' noisy: again' : ''}`,
        );
        if (!noisy || quiet.retries === 0) break;
        quiet.retries--;
      }
      foreign.push(m.other);
      results[t.name].push(m);
    }
  }

  // what apigov recorded: its request metrics and access logs
  const counted = async (adminUrl) => {
    const text = (await get(`${adminUrl}/metrics`)).body;
    let n = 0;
    for (const line of text.split('\n')) if (/^apigov_gateway_requests_total\{/.test(line) || /^apigov_requests_total\{/.test(line)) n += Number(line.split(' ').pop());
    return n;
  };
  const fileSize = (file) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  const apigovCounted = await counted(apigov.adminUrl).catch(() => NaN);
  const clusterCounted = await counted(cluster.adminUrl).catch(() => NaN);
  console.log(`apigov recorded: metrics count ${apigovCounted} requests (cluster: ${clusterCounted}); access logs ${fmt(fileSize(apigov.accessLog) / 1e6, 0)} MB and ${fmt(fileSize(cluster.accessLog) / 1e6, 0)} MB`);

  const med = (name, key) => median(results[name].map((m) => m[key]));
  const summary = targets.map((t) => ({
    name: t.name,
    rps: med(t.name, 'rps'),
    p50: med(t.name, 'p50'),
    p99: med(t.name, 'p99'),
    cpuUs: t.proc === undefined ? NaN : med(t.name, 'cpuUs'),
    rateP50: med(t.name, 'rateP50'),
    rateP99: med(t.name, 'rateP99'),
    rateCpuUs: t.proc === undefined ? NaN : med(t.name, 'rateCpuUs'),
    rounds: results[t.name].map((m) => fmt(m.rps, 0)).join(' / '),
    bad: results[t.name].reduce((a, m) => a + m.bad, 0),
  }));
  console.log('');
  console.log(`medians over ${cfg.rounds} rounds (closed loop: wrk -t1 -c${cfg.connections}; fixed rate: ${cfg.rate} req/s)`);
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', `@${cfg.rate}/s p50`, `@${cfg.rate}/s p99`, `@${cfg.rate}/s CPU µs/req`, 'req/s per round', 'failed'];
  const rows = summary.map((s) => [s.name, fmt(s.rps, 0), fmt(s.p50, 2), fmt(s.p99, 2), s.name === 'direct' ? 'n/a' : fmt(s.cpuUs, 1), fmt(s.rateP50, 2), fmt(s.rateP99, 2), s.name === 'direct' ? 'n/a' : fmt(s.rateCpuUs, 1), s.rounds, String(s.bad)]);
  printTable([head, ...rows]);
  const otherMed = median(foreign);
  if (quiet.waitedMs > 0) console.log(`waited ${fmt(quiet.waitedMs / 1000, 1)} s in all for other processes to quiet down`);
  console.log(`other CPU on the machine during the closed-loop windows: median ${fmt(otherMed * 100, 0)}%, max ${fmt(Math.max(...foreign) * 100, 0)}% of one core${otherMed > 0.15 ? '  ← the machine was not quiet; figures are noisy' : ''}`);
  const failed = summary.reduce((a, s) => a + s.bad, 0);
  if (failed > 0) console.log(`WARNING: ${failed} requests failed or were not 2xx during the measurements`);

  const by = Object.fromEntries(summary.map((s) => [s.name, s]));
  const r2 = (x) => Math.round(x * 100) / 100;
  const result = {
    direct_rps: Math.round(by.direct.rps),
    nginx_rps: Math.round(by.nginx.rps),
    apigov_rps: Math.round(by.apigov.rps),
    apigov_cluster_rps: Math.round(by['apigov-cluster'].rps),
    apigov_vs_nginx: r2(by.apigov.rps / by.nginx.rps),
    apigov_cluster_vs_nginx: r2(by['apigov-cluster'].rps / by.nginx.rps),
    apigov_cpu_us_per_req: Math.round(by.apigov.cpuUs * 10) / 10,
    nginx_cpu_us_per_req: Math.round(by.nginx.cpuUs * 10) / 10,
    p99_added_ms: r2(by.apigov.rateP99 - by.direct.rateP99),
  };
  const targetsMet = [
    ['apigov_vs_nginx', result.apigov_vs_nginx >= 0.3, '≥ 0.30'],
    ['apigov_cluster_vs_nginx', result.apigov_cluster_vs_nginx >= 0.45, '≥ 0.45'],
    ['apigov_cpu_us_per_req', result.apigov_cpu_us_per_req <= 70, '≤ 70'],
    ['p99_added_ms', result.p99_added_ms <= 2.5, '≤ 2.5'],
  ];
  console.log(`targets: ${targetsMet.map(([k, ok, t]) => `${k} ${result[k]} (${t}) ${ok ? 'met' : 'MISSED'}`).join('; ')}`);
  await stopAll(new Set([proxy, apigov, cluster]));
  for (const p of [proxy, apigov, cluster]) ctx.procs.delete(p);
  return result;
}

/** the bench's apigov snapshot (random key in ctx.apiKey), written to the temp dir */
async function writeBenchSnapshot(ctx, upstream) {
  const { computeSnapshotHash } = await import('@apigov/gateway');
  const { gatewaySnapshot } = await import('@apigov/model');
  ctx.apiKey = randomBytes(32).toString('base64url');
  const snapshot = benchSnapshot(upstream.url, ctx.apiKey);
  snapshot.hash = computeSnapshotHash(snapshot);
  gatewaySnapshot.parse(snapshot);
  const snapshotFile = join(ctx.dir, 'snapshot.json');
  writeFileSync(snapshotFile, JSON.stringify(snapshot));
  return snapshotFile;
}

/** --profile: one apigov process under `node --cpu-prof`, wrk for 10 s after a 2 s warm-up; self and inclusive hot spots */
async function profileGateway(ctx, upstream) {
  const snapshotFile = await writeBenchSnapshot(ctx, upstream);
  const profDir = join(ctx.dir, 'profile');
  const gw = await startApigov(ctx, 'apigov-profiled', snapshotFile, 1, ['--cpu-prof', '--cpu-prof-dir', profDir]);
  const url = `${gw.url}/bench/v1/items?limit=10&q=bench`;
  await wrk(ctx, url, 2, false);
  const c0 = cpuTicks(gw.pid);
  const w = parseWrk(await wrk(ctx, url, 10));
  const cpuUs = ((cpuTicks(gw.pid) - c0) * 1e6) / ctx.clkTck / w.requests;
  gw.child.kill('SIGINT');
  await waitFor(async () => gw.exited, 10_000, 'the profiled gateway did not exit');
  ctx.procs.delete(gw);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no .cpuprofile written');
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const where = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url === '' ? '' : `${cf.url.replace(`file://${ROOT}/`, '')}:${cf.lineNumber + 1}`}`.trim();
  const self = new Map();
  const inclusive = new Map();
  let busy = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += dt;
    self.set(where(node.callFrame), (self.get(where(node.callFrame)) ?? 0) + dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = where(byId.get(id).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  console.log(`profile: apigov (1 process, node --cpu-prof) under wrk -t1 -c${ctx.cfg.connections}: ${fmt(w.rps, 0)} req/s, ${fmt(cpuUs, 1)} µs CPU/req (with the profiler's overhead); busy (not idle) ${fmt(busy / 1000, 0)} ms sampled`);
  const show = (title, map, filter, n) => {
    console.log(title);
    for (const [k, v] of [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${fmt((v / busy) * 100, 1).padStart(5)}%  ${k}`);
  };
  show('top 15 functions by self time (share of busy time):', self, () => true, 15);
  show("the gateway's own functions by inclusive time:", inclusive, (k) => k.includes('packages/gateway/'), 15);
  console.log(`profile kept in ${join(profDir, file)}${ctx.keepTmp ? '' : ' (removed at exit; --keep-tmp keeps it)'}`);
}

function nginxVersion(ctx) {
  const r = spawnSync(ctx.tools.nginx, ['-v'], { encoding: 'utf8' });
  return /nginx\/([\d.]+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

async function startApigov(ctx, name, snapshotFile, workers, nodeFlags = []) {
  const port = await freePort();
  const adminPort = await freePort();
  const accessLog = join(ctx.dir, `${name}-access.log`);
  const args = [...nodeFlags, join(ROOT, 'packages/gateway/dist/main.js'), '--snapshot-file', snapshotFile, '--env', 'bench', '--port', String(port), '--admin-port', String(adminPort), '--access-log', accessLog, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const p = startProcess(ctx, name, process.execPath, args);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(async () => (await get(`${adminUrl}/ready`)).status === 200, 30_000, `${name} did not become ready`, p);
  if (workers > 1) await waitFor(async () => processTree(p.pid).length >= workers + 1, 5000, `${name}: not all workers are up`, p);
  return Object.assign(p, { port, adminUrl, accessLog, url: `http://127.0.0.1:${port}` });
}

function benchSnapshot(upstream, apiKey) {
  return {
    schemaVersion: 1,
    environment: 'bench',
    version: 1,
    hash: '',
    generatedAt: new Date().toISOString(),
    routes: [benchRoute('bench', upstream, 0)],
    consumers: { 'bench-app': { application: 'bench-app', team: 'bench-team', subscriptions: { 'bench/v1': { plan: 'gold' } } } },
    apiKeys: { [sha256(apiKey)]: { credential: 'bench-app-key-1', application: 'bench-app' } },
    jwtBindings: [],
    // a plan whose rate limit never triggers during the bench (but is counted on every request)
    plans: { gold: { rateLimit: { perSecond: 1_000_000_000, perMinute: 1_000_000_000 } } },
    warnings: [],
  };
}

/** One API version as the control plane compiles it: effective policies, operations extracted from its OpenAPI. */
function benchRoute(api, upstream, variant) {
  return {
    id: `${api}/v1`,
    api,
    version: 'v1',
    prefix: `/${api}/v1`,
    state: 'published',
    upstream,
    policies: {
      apiKeyAuth: { header: 'x-api-key' },
      subscription: { required: true },
      requestValidation: { enabled: true, body: true, parameters: true, rejectUnknownOperations: true },
    },
    schemas: {
      Item: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 + variant }, price: { type: 'number', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } }, additionalProperties: false },
    },
    operations: [
      {
        id: 'listItems',
        method: 'GET',
        path: '/items',
        parameters: [
          { name: 'limit', in: 'query', required: true, schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'q', in: 'query', required: false, schema: { type: 'string', maxLength: 64 + variant } },
        ],
      },
      { id: 'getItem', method: 'GET', path: '/items/{id}', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' } }] },
      { id: 'createItem', method: 'POST', path: '/items', parameters: [], requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } } },
    ],
  };
}

// ── the scale part ──

async function scaleBench(ctx, upstream) {
  const { cfg } = ctx;
  const { computeSnapshotHash } = await import('@apigov/gateway');
  const nRoutes = cfg.scaleRoutes;
  const nKeys = cfg.scaleKeys;
  const nApps = Math.max(1, Math.round(nKeys / 4));
  const t0 = performance.now();
  // 10,000 API versions, each with its own OpenAPI operations (schemas differ per API: `variant`), the same policies;
  // nKeys/4 applications with 4 keys each, each subscribed to 2 routes on one of 2 plans
  const routes = Array.from({ length: nRoutes }, (_v, i) => benchRoute(`api-${String(i).padStart(5, '0')}`, upstream.url, cfg.scaleSchemas === 'shared' ? 0 : i));
  const consumers = {};
  for (let a = 0; a < nApps; a++) {
    const name = `app-${a}`;
    consumers[name] = { application: name, team: `team-${a % 200}`, subscriptions: { [routes[a % nRoutes].id]: { plan: a % 2 ? 'gold' : 'free' }, [routes[(a * 7 + 3) % nRoutes].id]: { plan: 'gold' } } };
  }
  const keyOf = (k) => `bench-${createHash('sha256').update(`key-${k}`).digest('base64url')}`;
  const apiKeys = {};
  for (let k = 0; k < nKeys; k++) apiKeys[sha256(keyOf(k))] = { credential: `cred-${k}`, application: `app-${k % nApps}` };
  const snapshot = {
    schemaVersion: 1,
    environment: 'bench',
    version: 2,
    hash: '',
    generatedAt: new Date().toISOString(),
    routes,
    consumers,
    apiKeys,
    jwtBindings: [],
    plans: { free: { rateLimit: { perMinute: 60 }, quota: { perDay: 1000 } }, gold: { rateLimit: { perMinute: 6000 } } },
    warnings: [],
  };
  snapshot.hash = computeSnapshotHash(snapshot);
  const file1 = join(ctx.dir, 'scale-1.json');
  writeFileSync(file1, JSON.stringify(snapshot));
  // the next snapshot: one more key (a new credential), as after `apigov keys create`
  snapshot.version = 3;
  snapshot.apiKeys[sha256(keyOf(nKeys))] = { credential: `cred-${nKeys}`, application: 'app-0' };
  snapshot.hash = computeSnapshotHash(snapshot);
  const file2 = join(ctx.dir, 'scale-2.json');
  writeFileSync(file2, JSON.stringify(snapshot));
  const emptyFile = join(ctx.dir, 'scale-0.json');
  const empty = { schemaVersion: 1, environment: 'bench', version: 1, hash: '', generatedAt: new Date().toISOString(), routes: [], consumers: {}, apiKeys: {}, jwtBindings: [], plans: {}, warnings: [] };
  empty.hash = computeSnapshotHash(empty);
  writeFileSync(emptyFile, JSON.stringify(empty));
  const size = statSync(file1).size;
  console.log('');
  console.log(`scale: snapshot of ${nRoutes} routes (3 operations each, ${cfg.scaleSchemas === 'shared' ? 'the same schemas in every API' : 'per-API schemas'}), ${nKeys} API keys, ${nApps} applications (2 subscriptions each): ${fmt(size / 1e6, 1)} MB of JSON (generated in ${fmt((performance.now() - t0) / 1000, 1)} s)`);

  // a probe request: key k belongs to app k % nApps, subscribed to route (k % nApps) % nRoutes
  const k = 12345 % nKeys;
  const probe = { path: `/${routes[(k % nApps) % nRoutes].api}/v1/items?limit=5`, key: keyOf(k) };
  const spec = { emptyFile, file1, file2, probe };
  const child = startProcess(ctx, 'scale-child', process.execPath, ['--expose-gc', '--max-old-space-size=4096', SELF, '--scale-child', JSON.stringify(spec)]);
  const deadline = Date.now() + 240_000;
  while (!child.exited && Date.now() < deadline) await sleep(100);
  if (!child.exited) throw new Error(`scale: the gateway process did not finish in time: ${tail(child.out)}`);
  const out = readFileSync(child.out, 'utf8');
  const line = out.split('\n').reverse().find((l) => l.startsWith('{"scale"'));
  if (child.code !== 0 || line === undefined) throw new Error(`scale: the gateway process failed (${child.code}): ${tail(child.out)}`);
  ctx.procs.delete(child);
  const r = JSON.parse(line).scale;
  console.log(`scale: one gateway process (startGateway, no admin port, access log off), RSS from /proc/<pid>/status after gc and a 1 s pause:`);
  console.log(`  empty snapshot:             RSS ${fmt(r.rssEmptyMb, 0)} MB`);
  console.log(`  ${nRoutes} routes + ${nKeys} keys: RSS ${fmt(r.rssMb, 0)} MB (+${fmt(r.rssMb - r.rssEmptyMb, 0)} MB); V8 heap used ${fmt(r.heapUsedMb, 0)} MB of ${fmt(r.heapTotalMb, 0)} MB, external ${fmt(r.externalMb, 0)} MB`);
  console.log(`  first load (fresh process, cold): applySnapshot(JSON text) → swapped in ${fmt(r.loadMs, 0)} ms (gateway's compile step ${fmt(r.compileMs1, 0)} ms); every request validator compiled (in the background, serving meanwhile) ${fmt(r.warmMs, 0)} ms after the start`);
  if (r.reloadRefused === undefined) console.log(`  next load (one key added):         ${fmt(r.reloadMs, 0)} ms (compile ${fmt(r.compileMs2, 0)} ms${r.reloadReusedRoutes ? ', the compiled routes reused: only the auth tables built' : ''}); RSS ${fmt(r.rssAfterReloadMb, 0)} MB after it`);
  else console.log(`  next load (one key added):         REFUSED by the gateway after ${fmt(r.reloadMs, 0)} ms: ${r.reloadRefused.slice(0, 300)}`);
  console.log(`  during that load: the event loop was held at most ${fmt(r.reloadStallMs, 0)} ms at a time (${fmt((100 * r.reloadStallMs) / r.reloadMs, 0)}% of the load); ${r.duringReload.requests} requests sent one after another through the gateway meanwhile (statuses ${r.duringReload.statuses.join(', ') || 'none'}), the slowest in ${fmt(r.duringReload.maxMs, 0)} ms`);
  console.log(`  for scale, the whole text at once: JSON.parse ${fmt(r.parseMs, 0)} ms, verifySnapshot (zod + hash, nothing reused) ${fmt(r.verifyMs, 0)} ms`);
  console.log(`  probe through the loaded gateway: GET ${probe.path} with a key → ${r.probeStatus}; unknown key → ${r.probeUnknownStatus}`);
  if (r.probeStatus !== 200 || r.probeUnknownStatus !== 401) throw new Error('scale: the loaded gateway does not serve the probe request as expected');
  return { scale_routes: nRoutes, scale_keys: nKeys, scale_rss_mb: Math.round(r.rssMb), scale_load_ms: Math.round(r.loadMs), scale_validators_ready_ms: Math.round(r.warmMs), scale_reload_ms: Math.round(r.reloadMs), scale_reload_stall_ms: Math.round(r.reloadStallMs) };
}

// ───────────────────────────────────────────── child: fixed-rate client ─────────────────────────────────────────────

async function rateChild(spec) {
  const { Pool } = await import('undici');
  const u = new URL(spec.url);
  const pool = new Pool(u.origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const path = u.pathname + u.search;
  const headers = spec.headers;
  const total = Math.round((spec.rate * spec.durationMs) / 1000);
  const warm = Math.round((spec.rate * spec.warmupMs) / 1000);
  const latencies = new Float64Array(total);
  let measured = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let finished = 0;
  const fire = (record) => {
    sent++;
    const t0 = process.hrtime.bigint();
    pool.request({ path, method: 'GET', headers }).then(
      async (res) => {
        await res.body.dump();
        if (record) {
          latencies[measured++] = Number(process.hrtime.bigint() - t0) / 1e6;
          if (res.statusCode < 200 || res.statusCode >= 400) non2xx++;
        }
        finished++;
      },
      () => {
        if (record) errors++;
        finished++;
      },
    );
  };
  // open loop: requests are issued on schedule whatever the answers; a 1 ms timer fires the ones that are due.
  // The warm-up (the client's JIT, its connections) runs first at the same rate and is waited for, then the measured run.
  const interval = 1e9 / spec.rate;
  const run = (count, record) =>
    new Promise((resolve) => {
      const start = process.hrtime.bigint();
      let issued = 0;
      const tick = () => {
        const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - start) / interval) + 1);
        for (; issued < due; issued++) fire(record);
        if (issued < count) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
  await run(warm, false);
  const warmDeadline = Date.now() + 5000;
  while (finished < warm && Date.now() < warmDeadline) await sleep(5);
  const measureStart = process.hrtime.bigint();
  await run(total, true);
  const all = warm + total;
  const measureEnd = process.hrtime.bigint();
  const deadline = Date.now() + 5000;
  while (finished < all && Date.now() < deadline) await sleep(5);
  const lost = all - finished;
  const got = latencies.slice(0, measured).sort();
  const q = (p) => (got.length === 0 ? NaN : got[Math.min(got.length - 1, Math.floor(p * got.length))]);
  const result = { sent, measured, non2xx, errors: errors + lost, achievedRate: (total / Number(measureEnd - measureStart)) * 1e9, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: got.length ? got[got.length - 1] : NaN };
  await pool.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ───────────────────────────────────────────── child: the scale gateway ─────────────────────────────────────────────

async function scaleChild(spec) {
  const { startGateway, verifySnapshot } = await import('@apigov/gateway');
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await sleep(300);
    }
    await sleep(1000);
    globalThis.gc();
    return vmRssMb(process.pid);
  };
  const gw = await startGateway({ environment: 'bench', port: 0, adminPort: null, accessLog: 'off', snapshotFile: spec.emptyFile, log: (m) => process.stderr.write(`${m}\n`) });
  const rssEmptyMb = await settle();

  let text = readFileSync(spec.file1, 'utf8');
  const t0 = performance.now();
  await gw.applySnapshot(text);
  const loadMs = performance.now() - t0;
  const compileMs1 = gw.status().compileMs;
  if (gw.status().version !== 2) throw new Error('the big snapshot was not applied');
  text = undefined;
  // request validators are compiled by ajv in the background after the swap: until when, and the RSS once they all are
  while (gw.stats().validatorsPending > 0) await sleep(50);
  const warmMs = performance.now() - t0;
  const rssMb = await settle();
  const mem = process.memoryUsage();
  const heapUsedMb = mem.heapUsed / 1048576;
  const heapTotalMb = mem.heapTotal / 1048576;
  const externalMb = (mem.external + mem.arrayBuffers) / 1048576;

  const probe = await fetch(`${gw.url}${spec.probe.path}`, { headers: { 'x-api-key': spec.probe.key } });
  await probe.text();
  const unknown = await fetch(`${gw.url}${spec.probe.path}`, { headers: { 'x-api-key': 'not-a-key-0123456789abcdefghijklmnopqrstuvwxyz' } });
  await unknown.text();

  let text2 = readFileSync(spec.file2, 'utf8');
  // while the next snapshot loads: the longest the event loop was held (a 1 ms ticker's longest gap; every request
  // waits that long), and requests sent one after another through the gateway (the old snapshot serves them until
  // the swap): how many, and the slowest
  const stalls = stallMeter();
  let loading = true;
  const during = [];
  const prober = (async () => {
    while (loading) {
      const s0 = performance.now();
      const r = await fetch(`${gw.url}${spec.probe.path}`, { headers: { 'x-api-key': spec.probe.key } });
      await r.text();
      during.push({ ms: performance.now() - s0, status: r.status });
    }
  })();
  await sleep(100);
  stalls.reset();
  during.length = 0;
  const t1 = performance.now();
  let reloadRefused;
  try {
    await gw.applySnapshot(text2);
  } catch (err) {
    reloadRefused = err instanceof Error ? err.message : String(err);
  }
  const reloadMs = performance.now() - t1;
  loading = false;
  await prober;
  const reloadStallMs = await stalls.stop();
  const duringReload = { requests: during.length, maxMs: Math.max(0, ...during.map((d) => d.ms)), statuses: [...new Set(during.map((d) => d.status))] };
  const compileMs2 = reloadRefused === undefined ? gw.status().compileMs : NaN;
  const reloadReusedRoutes = reloadRefused === undefined ? gw.status().routesReused === true : false;
  if (reloadRefused === undefined && gw.status().version !== 3) throw new Error('the second snapshot was not applied');
  // where a load's time goes, outside the gateway's compile step
  const p0 = performance.now();
  const raw = JSON.parse(text2);
  const parseMs = performance.now() - p0;
  const v0 = performance.now();
  verifySnapshot(raw);
  const verifyMs = performance.now() - v0;
  text2 = undefined;
  const rssAfterReloadMb = await settle();
  await gw.close();
  process.stdout.write(
    `${JSON.stringify({ scale: { rssEmptyMb, rssMb, heapUsedMb, heapTotalMb, externalMb, loadMs, warmMs, compileMs1, reloadMs, reloadStallMs, duringReload, reloadReusedRoutes, compileMs2, parseMs, verifyMs, rssAfterReloadMb, reloadRefused, probeStatus: probe.status, probeUnknownStatus: unknown.status } })}\n`,
  );
  process.exit(0);
}

// ── helpers ──

function median(xs) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function printTable(rows) {
  const widths = rows[0].map((_c, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [n, r] of rows.entries()) {
    console.log(r.map((c, i) => (i === 0 || i === r.length - 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (n === 0) console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  }
}

// entry (last, so every module-level constant above is initialised): the bench, or one of its child processes
if (process.argv[2] === '--rate-child') await rateChild(JSON.parse(process.argv[3]));
else if (process.argv[2] === '--scale-child') await scaleChild(JSON.parse(process.argv[3]));
else await main();
