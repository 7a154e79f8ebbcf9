// Kubernetes spellings for Envoy Gateway resources: object names (DNS labels), rule section names, Gateway API
// durations, CIDR blocks, and the group/kind references policies attach with.
export const GATEWAY_API = 'gateway.networking.k8s.io';
export const GATEWAY_API_V1 = `${GATEWAY_API}/v1`;
export const ENVOY_GATEWAY = 'gateway.envoyproxy.io';
export const ENVOY_GATEWAY_V1ALPHA1 = `${ENVOY_GATEWAY}/v1alpha1`;

/** a DNS-1123 label of at most `max` characters: lower-case letters, digits and '-', starting and ending alphanumeric */
export function label(text: string, max = 63): string {
  const s = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  const cut = s.slice(0, max).replace(/-$/, '');
  return cut === '' ? 'x' : cut;
}

/** `payments`, `v1`, `dev` → `payments-v1-dev` (object names; at most 253 characters) */
export function objectName(...parts: string[]): string {
  return label(parts.join('-'), 253);
}

/** a Gateway API duration: `5s`, `1500ms` */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** an address or a CIDR block → a CIDR block (`10.0.0.1` → `10.0.0.1/32`) */
export function cidr(value: string): string {
  if (value.includes('/')) return value;
  return value.includes(':') ? `${value}/128` : `${value}/32`;
}

export function httpRouteRef(name: string, sectionName?: string): Record<string, string> {
  return { group: GATEWAY_API, kind: 'HTTPRoute', name, ...(sectionName !== undefined && { sectionName }) };
}

export function backendRef(name: string, port?: number, weight?: number): Record<string, unknown> {
  return { group: ENVOY_GATEWAY, kind: 'Backend', name, ...(port !== undefined && { port }), ...(weight !== undefined && { weight }) };
}

/** Backend endpoints for an upstream URL: its host (an IP address or a DNS name), port, TLS and base path. */
export interface UpstreamTarget {
  endpoint: Record<string, unknown>;
  port: number;
  tls: boolean;
  hostname: string;
  basePath: string;
}

export function upstreamTarget(url: string): UpstreamTarget {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(':');
  return { endpoint: isIp ? { ip: { address: hostname, port } } : { fqdn: { hostname, port } }, port, tls, hostname, basePath: u.pathname.replace(/\/+$/, '') };
}
