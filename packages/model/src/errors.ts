// Stable error codes (APIGOV_ERR_<AREA>_<WHAT>) and the one error class every package throws;
// the control plane renders it as RFC 9457 problem+json, the CLI as a one-line message.

export const errorCodes = {
  // request / input
  APIGOV_ERR_INPUT_MALFORMED: { status: 400, title: 'Malformed input' },
  APIGOV_ERR_INPUT_INVALID: { status: 422, title: 'Invalid resource' },
  APIGOV_ERR_INPUT_TOO_LARGE: { status: 413, title: 'Input too large' },
  APIGOV_ERR_INPUT_UNSUPPORTED_MEDIA: { status: 415, title: 'Unsupported media type' },
  // auth
  APIGOV_ERR_AUTH_MISSING_TOKEN: { status: 401, title: 'Authentication required' },
  APIGOV_ERR_AUTH_INVALID_TOKEN: { status: 401, title: 'Invalid token' },
  APIGOV_ERR_AUTH_EXPIRED_TOKEN: { status: 401, title: 'Token expired' },
  APIGOV_ERR_AUTH_FORBIDDEN: { status: 403, title: 'Forbidden' },
  APIGOV_ERR_AUTH_THROTTLED: { status: 429, title: 'Too many failed sign-ins' },
  APIGOV_ERR_AUTH_STEP_UP: { status: 401, title: 'Sign in again with multi-factor authentication' },
  APIGOV_ERR_AUTH_SSO: { status: 400, title: 'Single sign-on failed' },
  APIGOV_ERR_AUTH_SSO_CONFIG: { status: 502, title: 'The identity provider is misconfigured or unreachable' },
  // resources
  APIGOV_ERR_RESOURCE_NOT_FOUND: { status: 404, title: 'Not found' },
  APIGOV_ERR_RESOURCE_CONFLICT: { status: 409, title: 'Already exists' },
  APIGOV_ERR_RESOURCE_IN_USE: { status: 409, title: 'Resource in use' },
  APIGOV_ERR_RESOURCE_REFERENCE: { status: 422, title: 'Unknown reference' },
  APIGOV_ERR_RESOURCE_PRECONDITION: { status: 412, title: 'Precondition failed' },
  APIGOV_ERR_RESOURCE_PRECONDITION_REQUIRED: { status: 428, title: 'Precondition required' },
  APIGOV_ERR_SYNC_MANAGED: { status: 409, title: 'Managed by Git' },
  APIGOV_ERR_IDEMPOTENCY_MISMATCH: { status: 422, title: 'Idempotency key reused with a different request' },
  // specs
  APIGOV_ERR_SPEC_PARSE: { status: 422, title: 'OpenAPI document cannot be parsed' },
  APIGOV_ERR_SPEC_INVALID: { status: 422, title: 'Not a valid OpenAPI document' },
  APIGOV_ERR_SPEC_UNRESOLVED_REF: { status: 422, title: 'Unresolvable $ref' },
  APIGOV_ERR_SPEC_REMOTE_REF: { status: 422, title: 'Remote $ref refused' },
  APIGOV_ERR_SPEC_TOO_LARGE: { status: 413, title: 'OpenAPI document too large' },
  APIGOV_ERR_SPEC_BREAKING_CHANGE: { status: 409, title: 'Breaking change to a published version' },
  // lifecycle & governance
  APIGOV_ERR_LIFECYCLE_TRANSITION: { status: 409, title: 'Lifecycle transition not allowed' },
  APIGOV_ERR_APPROVAL_REQUIRED: { status: 409, title: 'A platform approval is required' },
  APIGOV_ERR_GOVERNANCE_BLOCKED: { status: 422, title: 'Governance gate refused the publication' },
  // gateway (data plane)
  APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL: { status: 401, title: 'Credential required' },
  APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL: { status: 401, title: 'Invalid credential' },
  APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION: { status: 403, title: 'No active subscription' },
  APIGOV_ERR_GATEWAY_IP_DENIED: { status: 403, title: 'Client address not allowed' },
  APIGOV_ERR_GATEWAY_CORS_ORIGIN: { status: 403, title: 'Origin not allowed' },
  APIGOV_ERR_GATEWAY_RATE_LIMITED: { status: 429, title: 'Rate limit exceeded' },
  APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED: { status: 429, title: 'Quota exceeded' },
  APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE: { status: 503, title: 'Rate limiter unavailable' },
  APIGOV_ERR_GATEWAY_VALIDATION: { status: 400, title: 'Request does not match the API description' },
  APIGOV_ERR_GATEWAY_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  APIGOV_ERR_GATEWAY_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  APIGOV_ERR_GATEWAY_NO_ROUTE: { status: 404, title: 'No such route' },
  APIGOV_ERR_GATEWAY_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  APIGOV_ERR_GATEWAY_RETIRED: { status: 410, title: 'API version retired' },
  APIGOV_ERR_GATEWAY_BROWNOUT: { status: 410, title: 'API version in a planned brownout before its sunset' },
  APIGOV_ERR_GATEWAY_UPSTREAM: { status: 502, title: 'Upstream failed' },
  APIGOV_ERR_GATEWAY_CIRCUIT_OPEN: { status: 503, title: 'Upstream circuit open' },
  APIGOV_ERR_GATEWAY_NOT_READY: { status: 503, title: 'Gateway has no configuration yet' },
  APIGOV_ERR_GATEWAY_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream timed out' },
  // generic
  APIGOV_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  APIGOV_ERR_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  APIGOV_ERR_STORE_LOCKED: { status: 503, title: 'Data directory in use by another process' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** One problem inside a request: a JSON-path-like location and what is wrong there. */
export interface FieldError {
  /** e.g. `spec.versions[0].environments.dev.upstream`, or `documents[99].spec.owner` in a bundle */
  path: string;
  message: string;
}

export interface ApigovErrorOptions {
  errors?: FieldError[];
  /** Extra machine-readable members for problem+json (e.g. `findings`, `breakingChanges`). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class ApigovError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, options: ApigovErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApigovError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.title = errorCodes[code].title;
    this.errors = options.errors ?? [];
    this.extensions = options.extensions ?? {};
  }
}

export function isApigovError(e: unknown): e is ApigovError {
  return e instanceof ApigovError;
}

/** The stable `type` URI of a problem+json document for an error code. */
export function problemType(code: ErrorCode): string {
  return `https://apigov.dev/errors/${code}`;
}

/** An RFC 9457 problem document as apigov sends it (control plane and gateway alike). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

/** The problem document for an error code: the code's status and title, its stable type, the request id. */
export function problemDocument(code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]): ProblemDocument {
  const { status, title } = errorCodes[code];
  const doc: ProblemDocument = { type: problemType(code), title, status, detail, code, requestId };
  if (errors !== undefined && errors.length > 0) doc.errors = errors;
  return doc;
}
