// Shared document-level types of @apigov/openapi: what an OpenAPI document is to the rest of apigov.

/** A parsed OpenAPI (or Swagger 2.0) document; after `loadSpec` it holds only internal (`#/...`) $refs. */
export type OpenApiDocument = Record<string, unknown>;

/** The OpenAPI major line of a document: Swagger 2.0, OpenAPI 3.0.x or OpenAPI 3.1.x. */
export type SpecFormat = '2.0' | '3.0' | '3.1';

/** Severity of a lint finding (Spectral's 0..3 = error, warn, info, hint). */
export type Severity = 'error' | 'warn' | 'info' | 'hint';
