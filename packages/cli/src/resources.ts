// Resource documents built from command-line values (`teams create`, `users create`, ...), checked
// with the model before sending so a bad value is a usage error naming the field.
import { API_VERSION, checkResource, describeErrors, type Kind } from '@apigov/model';
import type { ResourceDocument } from './api.js';
import { usageError } from './errors.js';

/** `{apiVersion, kind, metadata: {name}, spec}` with undefined spec fields left out. */
export function newResource(kind: Kind, name: string, spec: Record<string, unknown>): ResourceDocument {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) if (v !== undefined) clean[k] = v;
  const doc = { apiVersion: API_VERSION, kind, metadata: { name }, spec: clean };
  const checked = checkResource(doc);
  if (!checked.ok) throw usageError(describeErrors(checked.errors), 'APIGOV_ERR_INPUT_INVALID', checked.errors);
  return doc as ResourceDocument;
}

/** A string field of a resource's spec, for display. */
export function specField(doc: ResourceDocument, field: string): string | undefined {
  const v = doc.spec?.[field];
  return v === undefined || v === null ? undefined : String(v);
}

export function createdAt(doc: ResourceDocument): string | undefined {
  return doc.status?.createdAt;
}
