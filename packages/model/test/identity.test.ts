// Groups to teams: a person's role and teams from their identity provider groups, and what counts as a secure issuer.
import { describe, expect, it } from 'vitest';
import { isSecureIssuer, membershipsFrom, parseSpec } from '../src/index.js';

const spec = parseSpec('IdentityProvider', {
  issuer: 'https://login.example.com',
  clientId: 'apigov',
  groupMappings: [
    { group: 'orders-devs', team: 'orders', role: 'member' },
    { group: 'orders-leads', team: 'orders', role: 'owner' },
    { group: 'payments-readers', team: 'payments', role: 'consumer' },
    { group: 'platform', role: 'platform-admin' },
  ],
});

describe('membershipsFrom', () => {
  it('the strongest role per team, teams in mapping order', () => {
    expect(membershipsFrom(['payments-readers', 'orders-devs', 'orders-leads'], spec)).toEqual({
      role: 'owner',
      team: 'orders',
      memberships: [
        { team: 'orders', role: 'owner' },
        { team: 'payments', role: 'consumer' },
      ],
    });
  });

  it('platform-admin from any mapping; no mapped group: a consumer without a team, or the default team', () => {
    expect(membershipsFrom(['platform', 'orders-devs'], spec)).toMatchObject({ role: 'platform-admin', team: 'orders' });
    expect(membershipsFrom(['unknown'], spec)).toEqual({ role: 'consumer', memberships: [] });
    expect(membershipsFrom([], { ...spec, defaultRole: 'member', defaultTeam: 'orders' })).toEqual({ role: 'member', team: 'orders', memberships: [{ team: 'orders', role: 'member' }] });
  });

  it('a mapping needs a team unless it makes platform admins', () => {
    expect(() => parseSpec('IdentityProvider', { issuer: 'https://x.example', clientId: 'a', groupMappings: [{ group: 'g', role: 'owner' }] })).toThrow(/a team is required unless the role is platform-admin/);
  });
});

describe('isSecureIssuer', () => {
  it('https anywhere, http only on loopback', () => {
    expect(['https://idp.example.com', 'http://127.0.0.1:8080', 'http://localhost:9000/realms/x', 'http://[::1]:4000'].map(isSecureIssuer)).toEqual([true, true, true, true]);
    expect(['http://idp.example.com', 'http://10.0.0.1', 'ftp://127.0.0.1', 'not a url'].map(isSecureIssuer)).toEqual([false, false, false, false]);
  });
});
