// Turns the text of one file into plain data: JSON when it looks like JSON, YAML 1.2 otherwise
// (merge keys accepted, duplicate anchors accepted, duplicate keys refused); syntax errors carry line and column.
import { ApigovError } from '@apigov/model';
import { parseDocument } from 'yaml';

/** Parses `text`; `file` only names the file in error messages (omit for a single document). */
export function parseText(text: string, file?: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(body, file);
  return parseYaml(body, file);
}

function where(file: string | undefined, line: number, column: number): string {
  return `${file === undefined ? '' : `${file}, `}line ${line}, column ${column}`;
}

function parseJson(text: string, file: string | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const m = /at position (\d+)/.exec(reason);
    const offset = m ? Number(m[1]) : text.length;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    const short = reason.replace(/\s*\(line \d+ column \d+\)$/, '');
    throw new ApigovError('APIGOV_ERR_SPEC_PARSE', `invalid JSON${file === undefined ? '' : ` in ${file}`} at line ${line}, column ${column}: ${short}`, {
      errors: [{ path: where(file, line, column), message: short }],
      cause: e,
    });
  }
}

function parseYaml(text: string, file: string | undefined): unknown {
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.slice(0, 20).map((err) => {
      const pos = err.linePos?.[0];
      const message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
      return { path: pos ? where(file, pos.line, pos.col) : (file ?? '(text)'), message, pos };
    });
    const first = errors[0]!;
    const at = first.pos ? ` at line ${first.pos.line}, column ${first.pos.col}` : '';
    const more = errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    throw new ApigovError('APIGOV_ERR_SPEC_PARSE', `invalid YAML${file === undefined ? '' : ` in ${file}`}${at}: ${first.message}${more}`, {
      errors: errors.map(({ path, message }) => ({ path, message })),
    });
  }
  try {
    // maxAliasCount guards against alias bombs ("billion laughs"); aliases become shared objects.
    return doc.toJS({ maxAliasCount: 10_000 }) as unknown;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ApigovError('APIGOV_ERR_SPEC_PARSE', `invalid YAML${file === undefined ? '' : ` in ${file}`}: ${reason}`, {
      errors: [{ path: file ?? '(text)', message: reason }],
      cause: e,
    });
  }
}
