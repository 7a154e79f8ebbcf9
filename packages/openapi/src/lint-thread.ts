// Linting off the caller's event loop: lintSpecOffThread sends the work to one long-lived worker thread running
// Spectral (lint-worker.ts), so a server keeps answering while a large document is linted. Same findings, same errors.
import { Worker } from 'node:worker_threads';
import { ApigovError, type ErrorCode, type FieldError } from '@apigov/model';
import type { LintFinding, LintInput, LintOptions } from './lint.js';

export interface LintJob {
  id: number;
  input: LintInput;
  options: LintOptions;
}

export type LintReply =
  | { id: number; findings: LintFinding[] }
  | { id: number; refused: { code: ErrorCode; message: string; errors: FieldError[] } }
  | { id: number; failed: string };

interface Pending {
  resolve(findings: LintFinding[]): void;
  reject(err: Error): void;
}

/** the worker's module; run from the sources (the tests do), the built one in dist/ */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../dist/lint-worker.js', here) : new URL('./lint-worker.js', here);
}

/** One worker thread, started on first use; it does not keep the process alive while idle. */
class LintThread {
  private worker: Worker | undefined = undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  run(input: LintInput, options: LintOptions): Promise<LintFinding[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<LintFinding[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      try {
        worker.postMessage({ id, input, options } satisfies LintJob);
      } catch (err) {
        // not cloneable (a function or a class instance in the document): the same refusal lintSpec gives
        this.settle(id);
        reject(new ApigovError('APIGOV_ERR_SPEC_INVALID', `the document cannot be serialised to JSON: ${err instanceof Error ? err.message : String(err)}`, { errors: [{ path: '(root)', message: 'not JSON-serialisable' }], cause: err }));
      }
    });
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(workerUrl());
    worker.unref();
    worker.on('message', (reply: LintReply) => {
      const p = this.settle(reply.id);
      if (p === undefined) return;
      if ('findings' in reply) p.resolve(reply.findings);
      else if ('refused' in reply) p.reject(new ApigovError(reply.refused.code, reply.refused.message, { errors: reply.refused.errors }));
      else p.reject(new Error(`lint failed: ${reply.failed}`));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(new Error(`the lint worker stopped: ${err.message}`));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    return p;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}

const thread = new LintThread();

/** lintSpec in the lint worker thread: the same findings (or ApigovError), without holding this thread's event loop. */
export function lintSpecOffThread(input: LintInput, options: LintOptions = {}): Promise<LintFinding[]> {
  return thread.run(input, options);
}

/** Stops the lint worker (the next lint starts another); for tests and shutdown. */
export function stopLintThread(): Promise<void> {
  return thread.stop();
}
