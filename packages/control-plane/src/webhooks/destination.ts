// Where a webhook may send (SSRF): never to loopback, link-local (the cloud metadata address among them), private,
// unique-local, carrier-grade NAT or other reserved addresses unless APIGOV_WEBHOOK_ALLOW_CIDRS allow-lists them;
// checked when the webhook is written and again for the address actually connected to (DNS rebinding).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { ApigovError } from '@apigov/model';
import type { StoreTx } from '@apigov/store';

const BLOCKED_RANGES = new Set(['unspecified', 'broadcast', 'multicast', 'linkLocal', 'loopback', 'carrierGradeNat', 'private', 'reserved', 'uniqueLocal', 'ipv4Mapped', 'rfc6145', 'rfc6052', '6to4', 'teredo', 'benchmarking', 'amt', 'as112', 'deprecated', 'orchid2', 'droneRemoteIdProtocolEntityTags']);
const BLOCKED_HOSTS = /^(metadata(\.google\.internal)?|metadata\.azure\.internal|instance-data(\.ec2\.internal)?)\.?$/i;

/**
 * What a platform admin allows despite the rules: APIGOV_WEBHOOK_ALLOW_CIDRS (comma-separated; 127.0.0.0/8 in tests)
 * and the AccessPolicies' webhookAllowCidrs (`extra`).
 */
function allowList(extra: readonly string[]): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  return [...(process.env.APIGOV_WEBHOOK_ALLOW_CIDRS ?? '').split(','), ...extra]
    .map((s) => s.trim())
    .filter(Boolean)
    .map((c) => (c.includes('/') ? c : `${c}/${ipaddr.isValid(c) && ipaddr.parse(c).kind() === 'ipv6' ? 128 : 32}`))
    .flatMap((c) => {
      try {
        return [ipaddr.parseCIDR(c)];
      } catch {
        return [];
      }
    });
}

/** Why an address may not be sent to, or undefined when it may. */
export function refusedAddress(address: string, extra: readonly string[] = []): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return `${address} is not an address`;
  }
  for (const [net, bits] of allowList(extra)) if (ip.kind() === net.kind() && ip.match(net as never, bits)) return undefined;
  const range = ip.range();
  return BLOCKED_RANGES.has(range) ? `${address} is a ${range} address (allow it with APIGOV_WEBHOOK_ALLOW_CIDRS)` : undefined;
}

function refused(url: string, why: string): ApigovError {
  return new ApigovError('APIGOV_ERR_INPUT_INVALID', `spec.url: webhooks may not send to ${url}: ${why}`, { errors: [{ path: 'spec.url', message: `not an allowed destination: ${why}` }] });
}

/** Refuses a URL whose host is, or resolves to, an address webhooks may not reach. */
export async function assertDestinationAllowed(url: string, extra: readonly string[] = []): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (BLOCKED_HOSTS.test(host)) throw refused(url, `${host} is a metadata service`);
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw refused(url, `${host} does not resolve`);
    }
  }
  for (const a of addresses) {
    const why = refusedAddress(a, extra);
    if (why !== undefined) throw refused(url, why);
  }
}

/** A `lookup` for http.request that refuses disallowed addresses at connect time. */
export function guardedLookup(extra: readonly string[] = []) {
  return (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => lookupGuarded(hostname, options, callback, extra);
}

function lookupGuarded(hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void, extra: readonly string[]): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const list = addresses as LookupAddress[];
    const bad = list.map((a) => refusedAddress(a.address, extra)).find((w) => w !== undefined);
    if (bad !== undefined) return callback(Object.assign(new Error(`refused destination: ${bad}`), { code: 'APIGOV_REFUSED_DESTINATION' }), '');
    if ((options as { all?: boolean }).all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

/** The destinations platform admins allowed in AccessPolicies (webhookAllowCidrs). */
export async function webhookAllowCidrs(tx: Pick<StoreTx, 'list'>): Promise<string[]> {
  return (await tx.list('AccessPolicy', { limit: 1000 })).flatMap((s) => (s.resource.kind === 'AccessPolicy' ? (s.resource.spec.webhookAllowCidrs ?? []) : []));
}
