// Standard Webhooks signing: `whsec_` secrets (base64 key), and `webhook-signature: v1,<base64 HMAC-SHA256 of
// "id.timestamp.body">`, one signature per valid secret (two during a rotation), space-separated.
import { createHmac, randomBytes } from 'node:crypto';

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function sign(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => `v1,${createHmac('sha256', Buffer.from(s.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64')}`).join(' ');
}
