// How the CLI fails: the error classes it throws (usage vs. failure), their exit codes, and the one
// line `apigov: <detail> [APIGOV_ERR_...]` that every failure prints on stderr.
import { isApigovError, type FieldError } from '@apigov/model';

/** CLI-local error codes (the control plane never returns these). */
export const CLI_USAGE = 'APIGOV_ERR_CLI_USAGE';
export const CLI_FILE_UNREADABLE = 'APIGOV_ERR_CLI_FILE_UNREADABLE';
export const CLI_CONFIG = 'APIGOV_ERR_CLI_CONFIG';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliErrorOptions {
  exitCode?: number;
  errors?: FieldError[];
  /** problem+json extensions (`findings`, `breakingChanges`, ...). */
  extensions?: Record<string, unknown>;
  /** HTTP status when the error came from the control plane. */
  status?: number;
  cause?: unknown;
}

/** A failure with a stable code; exit code 1 unless told otherwise. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;
  readonly status: number | undefined;

  constructor(code: string, detail: string, options: CliErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
    this.errors = options.errors ?? [];
    this.extensions = options.extensions ?? {};
    this.status = options.status;
  }
}

/** A mistake in how the command was called or in a local file it was given: exit code 2. */
export function usageError(detail: string, code: string = CLI_USAGE, errors?: FieldError[]): CliError {
  return new CliError(code, detail, { exitCode: EXIT_USAGE, errors });
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function withFieldPath(detail: string, errors: readonly FieldError[]): string {
  const first = errors[0];
  if (first === undefined || first.path === '' || detail.includes(first.path)) return detail;
  if (first.message === '' || detail.includes(first.message)) return `${detail} (at ${first.path})`;
  return `${detail} (at ${first.path}: ${first.message})`;
}

/** The single stderr line for any thrown value. */
export function formatError(e: unknown): string {
  if (e instanceof CliError || isApigovError(e)) {
    return `apigov: ${oneLine(withFieldPath(e.message, e.errors))} [${e.code}]`;
  }
  const message = e instanceof Error ? e.message : String(e);
  return `apigov: ${oneLine(message)} [APIGOV_ERR_INTERNAL]`;
}

/** Exit code for any thrown value: local spec/input problems are usage errors (2), the rest failures (1). */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CliError) return e.exitCode;
  if (isApigovError(e)) return e.code === 'APIGOV_ERR_INTERNAL' || e.code === 'APIGOV_ERR_UNAVAILABLE' ? EXIT_FAILURE : EXIT_USAGE;
  return EXIT_FAILURE;
}
