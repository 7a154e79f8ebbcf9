// Request validation for the payments service; every error names the offending field.
import { PAYMENT_STATUSES, type NewPayment, type PaymentStatus } from './data.js';

export interface FieldError {
  /** A body property, a query parameter, or `body` for the body as a whole. */
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
export const MAX_DESCRIPTION = 200;
const NEW_PAYMENT_FIELDS = new Set(['amount', 'currency', 'description']);

export function validateListQuery(query: URLSearchParams): Validated<{ limit: number; status?: PaymentStatus }> {
  const errors: FieldError[] = [];
  let limit = DEFAULT_LIMIT;
  const rawLimit = query.get('limit');
  if (rawLimit !== null) {
    const n = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` });
    else limit = n;
  }
  let status: PaymentStatus | undefined;
  const rawStatus = query.get('status');
  if (rawStatus !== null) {
    if ((PAYMENT_STATUSES as readonly string[]).includes(rawStatus)) status = rawStatus as PaymentStatus;
    else errors.push({ field: 'status', message: `must be one of ${PAYMENT_STATUSES.join(', ')}` });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: status === undefined ? { limit } : { limit, status } };
}

export function validateNewPayment(body: unknown): Validated<NewPayment> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] };
  }
  const b = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (!Number.isSafeInteger(b.amount) || (b.amount as number) <= 0) {
    errors.push({ field: 'amount', message: b.amount === undefined ? 'is required' : 'must be an integer greater than 0' });
  }
  if (typeof b.currency !== 'string' || !/^[A-Z]{3}$/.test(b.currency)) {
    errors.push({ field: 'currency', message: b.currency === undefined ? 'is required' : 'must be 3 uppercase letters (ISO 4217)' });
  }
  if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > MAX_DESCRIPTION)) {
    errors.push({ field: 'description', message: `must be a string of at most ${MAX_DESCRIPTION} characters` });
  }
  for (const key of Object.keys(b)) {
    if (!NEW_PAYMENT_FIELDS.has(key)) errors.push({ field: key, message: 'is not a known field' });
  }
  if (errors.length > 0) return { ok: false, errors };
  const value: NewPayment = { amount: b.amount as number, currency: b.currency as string };
  if (b.description !== undefined) value.description = b.description as string;
  return { ok: true, value };
}
