// The lint worker thread's entry: runs lintSpec for each message from lint-thread.ts and posts back the findings,
// or the refusal as plain data (code, message, field errors) that the caller turns back into an ApigovError.
import { parentPort } from 'node:worker_threads';
import { isApigovError } from '@apigov/model';
import { lintSpec } from './lint.js';
import type { LintJob, LintReply } from './lint-thread.js';

const port = parentPort;
if (port === null) throw new Error('lint-worker.js runs as a worker thread (lint-thread.ts starts it)');

port.on('message', (job: LintJob) => {
  lintSpec(job.input, job.options).then(
    (findings) => port.postMessage({ id: job.id, findings } satisfies LintReply),
    (err: unknown) => {
      const reply: LintReply = isApigovError(err)
        ? { id: job.id, refused: { code: err.code, message: err.message, errors: err.errors } }
        : { id: job.id, failed: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    },
  );
});
