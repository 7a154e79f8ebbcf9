// Failed sign-ins are counted, throttled and audited: 1,000 wrong tokens from one address get 401 up to the limit,
// then 429 with Retry-After (a valid token from that address too, during the lockout); every one of them is an audit
// event naming the address and the result, and no token appears in the audit log or the server's log. Per user: a
// user whose expired token keeps failing is locked out from every address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { SignInGuard } from '../src/sign-in-guard.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const logLines: string[] = [];

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN, logger: { level: 'info', stream: { write: (line: string) => void logLines.push(line) } } });
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

describe('failed sign-ins', () => {
  it('1,000 wrong tokens from one address: 401 up to the limit, then 429 with Retry-After; every failure audited, no token logged', async () => {
    const wrong = Array.from({ length: 1000 }, (_x, i) => `agv_wrong_${i}_${randomBytes(12).toString('base64url')}`);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (const token of wrong) {
      const r = await fetch(`${cp.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter ??= r.headers.get('retry-after');
        expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(((await r.json()) as { code: string }).code).toBe('APIGOV_ERR_AUTH_THROTTLED');
      } else await r.arrayBuffer();
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(980).fill(429));
    expect(Number(retryAfter)).toBeGreaterThan(200);
    // the lockout is the address's: even a valid token is refused from it until it ends
    const valid = await fetch(`${cp.url}/v1/whoami`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(valid.status).toBe(429);
    // an anonymous request (no credential to check) is not refused
    expect((await fetch(`${cp.url}/healthz`)).status).toBe(200);

    // every attempt is in the audit log: the 21 refused tokens, then the 979 + 1 refused while locked out
    await cp.close(); // flushes the pending audit batch
    const events = await store.listAudit({ limit: 5000 });
    const failed = events.filter((e) => e.action === 'auth.failed');
    const throttled = events.filter((e) => e.action === 'auth.throttled');
    expect(failed).toHaveLength(21);
    expect(throttled).toHaveLength(980);
    expect(failed[0]).toMatchObject({ actor: 'anonymous', kind: 'SignIn', name: '127.0.0.1', after: { address: '127.0.0.1', method: 'bearer', result: 'invalid' } });
    expect((await store.verifyAudit()).ok).toBe(true);
    const everything = JSON.stringify(events) + logLines.join('');
    expect(logLines.length).toBeGreaterThan(100);
    for (const token of [...wrong.slice(0, 50), ...wrong.slice(-50), ADMIN]) expect(everything.includes(token)).toBe(false);
    expect(everything.includes('agv_wrong_')).toBe(false);
  }, 120_000);
});

describe('SignInGuard per user', () => {
  it("locks a user out after the limit of refused tokens from any address, and audits the user's name", async () => {
    const s = await openStore({ dataDir: 'memory://' });
    let now = Date.parse('2026-12-03T10:00:00Z');
    const guard = new SignInGuard(s, { maxFailures: 3, windowSeconds: 60, lockoutSeconds: 120 }, () => now);
    try {
      for (let i = 0; i < 3; i++) guard.failed({ address: `10.0.0.${i}`, user: 'bob', result: 'expired', requestId: `r${i}` });
      expect(() => guard.failed({ address: '10.0.0.9', user: 'bob', result: 'expired', requestId: 'r3' })).toThrow(/too many failed sign-ins/);
      // bob is locked out everywhere, another address is not
      expect(() => guard.assertUserAllowed('bob', '10.9.9.9', 'r4')).toThrow(/try again in 120 s/);
      expect(() => guard.assertAllowed('10.9.9.9', 'r5')).not.toThrow();
      now += 121_000;
      expect(() => guard.assertUserAllowed('bob', '10.9.9.9', 'r6')).not.toThrow();
      // failures older than the window do not count
      guard.failed({ address: '10.1.0.1', user: 'alex', result: 'expired', requestId: 'a1' });
      now += 61_000;
      for (let i = 0; i < 3; i++) guard.failed({ address: '10.1.0.1', user: 'alex', result: 'expired', requestId: `a${i + 2}` });
      await guard.close();
      const events = await s.listAudit({ limit: 100 });
      expect(events.filter((e) => e.actor === 'bob')).toHaveLength(5);
      expect(events.find((e) => e.requestId === 'r4')).toMatchObject({ action: 'auth.throttled', name: '10.9.9.9', after: { user: 'bob', result: 'throttled' } });
    } finally {
      await s.close();
    }
  });
});
