// The HTTP transport to the control plane: one fetch per call with the bearer token, JSON in and out,
// problem+json (RFC 9457) turned into a CliError, and "cannot reach" when the server does not answer.
import { errorCodes, type FieldError } from '@apigov/model';
import { CliError } from './errors.js';

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /** Default `application/json`. */
  accept?: string;
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else undefined. */
  body: unknown;
  text: string;
}

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'instance', 'errors']);
const REQUEST_TIMEOUT_MS = 5 * 60_000;

function codeForStatus(status: number): string {
  for (const [code, info] of Object.entries(errorCodes)) if (info.status === status) return code;
  return status >= 500 ? 'APIGOV_ERR_INTERNAL' : 'APIGOV_ERR_INPUT_MALFORMED';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldErrors(v: unknown): FieldError[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((e) => ({ path: String(e.path ?? ''), message: String(e.message ?? '') }));
}

/** Builds the error for a non-2xx answer, from its problem+json body when it has one. */
export function problemError(status: number, statusText: string, body: unknown): CliError {
  if (!isRecord(body)) return new CliError(codeForStatus(status), `HTTP ${status} ${statusText}`.trim(), { status });
  let code = typeof body.code === 'string' && /^APIGOV_ERR_[A-Z0-9_]+$/.test(body.code) ? body.code : undefined;
  if (code === undefined && typeof body.type === 'string') code = /APIGOV_ERR_[A-Z0-9_]+$/.exec(body.type)?.[0];
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : typeof body.title === 'string' ? body.title : `HTTP ${status} ${statusText}`;
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!PROBLEM_MEMBERS.has(k)) extensions[k] = v;
  return new CliError(code ?? codeForStatus(status), detail, { status, errors: fieldErrors(body.errors), extensions });
}

/** A step-up problem says how to sign in again from the CLI, with what the control plane asked for. */
function stepUpHint(e: CliError, baseUrl: string): CliError {
  if (e.code !== 'APIGOV_ERR_AUTH_STEP_UP') return e;
  const acr = typeof e.extensions.acr_values === 'string' ? ` --acr-values '${e.extensions.acr_values}'` : '';
  const age = typeof e.extensions.max_age === 'number' ? ` --max-age ${e.extensions.max_age}` : '';
  return new CliError(e.code, `${e.message.replace(/; sign in again$/, '')}; sign in again: apigov login --sso --url ${baseUrl}${acr}${age}`, { status: e.status, errors: e.errors, extensions: e.extensions });
}

function unreachable(baseUrl: string, e: unknown): CliError {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = err.name === 'TimeoutError' ? 'timed out' : (err.cause?.code ?? err.cause?.message ?? err.message ?? 'unknown error');
  return new CliError('APIGOV_ERR_UNAVAILABLE', `cannot reach the control plane at ${baseUrl} (${why})`, { cause: e });
}

/** A client for one control plane base URL (e.g. `http://127.0.0.1:4000`) and optional bearer token. */
export class ControlPlaneClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  url(path: string, query: Record<string, QueryValue> = {}): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Sends one request; resolves with 2xx answers, throws CliError for everything else. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...options.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), { method, headers, body: payload, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    const type = res.headers.get('content-type') ?? '';
    let body: unknown;
    if (/[/+]json\b/.test(type) && text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok) throw new CliError('APIGOV_ERR_INTERNAL', `the control plane at ${this.baseUrl} answered ${method} ${path} with invalid JSON`);
      }
    }
    if (!res.ok) throw stepUpHint(problemError(res.status, res.statusText, body), this.baseUrl);
    return { status: res.status, headers: res.headers, body, text };
  }
}
