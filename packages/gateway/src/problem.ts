// Gateway errors as clients see them: RFC 9457 application/problem+json with a stable `type` per error code,
// the code's status and title, the request id, optional field errors, and no internals.
import { errorCodes, problemType, type ErrorCode, type FieldError } from '@apigov/model';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export function problemDocument(code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]): ProblemDocument {
  const { status, title } = errorCodes[code];
  const doc: ProblemDocument = { type: problemType(code), title, status, detail, code, requestId };
  if (errors !== undefined && errors.length > 0) doc.errors = errors;
  return doc;
}

export function statusOf(code: ErrorCode): number {
  return errorCodes[code].status;
}
