// Renders every error the control plane can raise as RFC 9457 problem+json with a stable code and the request id.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApigovError, errorCodes, problemDocument, type ProblemDocument } from '@apigov/model';

/** A problem document plus the extensions some errors carry (`findings`, `breakingChanges`, …). */
export type Problem = ProblemDocument & { [extension: string]: unknown };

export function toProblem(err: unknown, requestId: string): Problem {
  const e = normalise(err);
  return { ...e.extensions, ...problemDocument(e.code, e.message, requestId, e.errors) };
}

/** Maps framework and library errors onto our codes; anything unknown becomes an internal error without internals. */
function normalise(err: unknown): ApigovError {
  if (err instanceof ApigovError) return err;
  const fe = err as Partial<FastifyError> & { type?: string };
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApigovError('APIGOV_ERR_INPUT_TOO_LARGE', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApigovError('APIGOV_ERR_INPUT_UNSUPPORTED_MEDIA', 'unsupported content-type; send application/json or application/yaml');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `malformed JSON body: ${fe.message ?? ''}`.trim());
  }
  if (err instanceof SyntaxError) return new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `malformed JSON body: ${err.message}`);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApigovError('APIGOV_ERR_INPUT_MALFORMED', fe.message ?? 'bad request');
  }
  return new ApigovError('APIGOV_ERR_INTERNAL', 'internal error; the request id identifies it in the server log');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown): FastifyReply {
  const problem = toProblem(err, String(request.id));
  if (problem.status >= 500) request.log.error({ err }, 'request failed');
  if (problem.code === 'APIGOV_ERR_AUTH_THROTTLED' && typeof problem.retryAfter === 'number') reply.header('retry-after', String(problem.retryAfter));
  // RFC 9470: a bearer client learns from the challenge how to sign in again
  if (problem.code === 'APIGOV_ERR_AUTH_STEP_UP') {
    const acr = typeof problem.acr_values === 'string' ? `, acr_values="${problem.acr_values}"` : '';
    reply.header('www-authenticate', `Bearer error="insufficient_user_authentication", error_description="${problem.detail.replace(/["\\]/g, '')}"${acr}, max_age=${String(problem.max_age)}`);
  }
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** 422 for one field: `path: message`, with the field in `errors`. */
export function invalidField(path: string, message: string): ApigovError {
  return new ApigovError('APIGOV_ERR_INPUT_INVALID', `${path}: ${message}`, { errors: [{ path, message }] });
}

export function notFound(what: string): ApigovError {
  return new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `${what} not found`);
}

export { errorCodes };
