// Gateway errors as clients see them: RFC 9457 application/problem+json with a stable `type` per error code,
// the code's status and title, the request id, optional field errors, and no internals.
import { errorCodes, type ErrorCode } from '@apigov/model';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export { problemDocument, type ProblemDocument } from '@apigov/model';

export function statusOf(code: ErrorCode): number {
  return errorCodes[code].status;
}
