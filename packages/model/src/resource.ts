// The envelope every apigov resource shares (apiVersion, kind, metadata, spec, status) and its zod schemas.
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from './names.js';

export const API_VERSION = 'apigov.dev/v1';

export const resourceName = z.string().regex(NAME_PATTERN, { message: `must be ${NAME_RULE}` });

const labelKey = z.string().regex(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, {
  message: 'must be a label key (prefix/name, letters, digits, . _ -)',
});

export const metadataSchema = z
  .object({
    name: resourceName,
    labels: z.record(labelKey, z.string().max(63)).default({}),
    annotations: z.record(z.string().min(1).max(253), z.string().max(4096)).default({}),
  })
  .strict();

export type Metadata = z.infer<typeof metadataSchema>;

/** Server-written bookkeeping returned with every resource; ignored on input. */
export interface ResourceStatus {
  resourceVersion: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
  [key: string]: unknown;
}

export interface Resource<K extends string = string, S = Record<string, unknown>> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: Metadata;
  spec: S;
  status?: ResourceStatus;
}

export const emailSchema = z.string().email({ message: 'must be an e-mail address' });
export const urlSchema = z.string().url({ message: 'must be an absolute URL' }).refine((u) => /^https?:\/\//.test(u), {
  message: 'must be an http(s) URL',
});
/** A calendar date `YYYY-MM-DD` or an RFC 3339 timestamp. */
export const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/, { message: 'must be a date (YYYY-MM-DD) or RFC 3339 timestamp' })
  .refine(isRealDate, { message: 'must be a real calendar date' });

function isRealDate(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d && !Number.isNaN(Date.parse(s));
}

export const contactSchema = z
  .object({ name: z.string().max(200).optional(), email: emailSchema.optional(), url: urlSchema.optional() })
  .strict();
