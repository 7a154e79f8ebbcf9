// API keys: at least 32 random bytes, shown once, stored only as a sha256 hash with a short prefix for display;
// rotation issues a new key and lets the old one live for an overlap window; revocation deletes the credential.
import { createHash, randomBytes } from 'node:crypto';
import { API_VERSION, parseResource, type AnyResource } from '@apigov/model';

export const KEY_PREFIX = 'agk_';

export function newApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyCredential(name: string, application: string, key: string, expiresAt?: string): AnyResource {
  return parseResource({
    apiVersion: API_VERSION,
    kind: 'Credential',
    metadata: { name },
    spec: { application, type: 'api-key', keyHash: keyHash(key), prefix: key.slice(0, KEY_PREFIX.length + 6), ...(expiresAt !== undefined && { expiresAt }) },
  });
}

/** `<app>-key-<6 random chars>`, trimmed to a valid name. */
export function credentialName(application: string): string {
  const suffix = randomBytes(4).toString('hex').slice(0, 6);
  return `${application.slice(0, 50).replace(/-+$/, '')}-key-${suffix}`;
}
