// Client addresses: CIDR sets (v4 and v6, on node:net's BlockList) used by the ip-filter policy and the
// trusted-proxy check, and the client IP a request is attributed to (X-Forwarded-For only from trusted peers).
import { BlockList, isIP } from 'node:net';

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function plainAddress(address: string): string {
  return address.length > 7 && address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A set of addresses and CIDR blocks, v4 and v6. Throws on an entry that is not one. */
export class AddressSet {
  readonly size: number;
  private readonly list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const address = plainAddress(slash === -1 ? entry : entry.slice(0, slash));
      const family = isIP(address);
      if (family === 0) throw new Error(`${entry} is not an IP address or CIDR block`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash === -1) {
        this.list.addAddress(address, type);
        continue;
      }
      const bits = Number(entry.slice(slash + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`${entry} has an invalid prefix length`);
      this.list.addSubnet(address, bits, type);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const a = plainAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

const TRUST_CACHE_LIMIT = 1024;

/** Decides a request's client address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
export class ClientAddressResolver {
  private readonly trusted: AddressSet;
  /** peer address → trusted, so keep-alive connections from the same proxy cost one Map lookup */
  private readonly cache = new Map<string, boolean>();

  constructor(trustedProxies: readonly string[]) {
    this.trusted = new AddressSet(trustedProxies);
  }

  /** whether the peer address is one of the trusted proxies (cached per address) */
  isTrusted(address: string): boolean {
    let t = this.cache.get(address);
    if (t === undefined) {
      t = this.trusted.has(address);
      if (this.cache.size >= TRUST_CACHE_LIMIT) this.cache.clear();
      this.cache.set(address, t);
    }
    return t;
  }

  /**
   * The rightmost X-Forwarded-For entry that is not itself a trusted proxy, when the peer is trusted;
   * otherwise the peer.
   */
  resolve(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const p = peer === undefined ? '' : plainAddress(peer);
    if (forwardedFor === undefined || this.trusted.size === 0 || !this.isTrusted(p)) return p;
    const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = plainAddress(chain[i]!.trim());
      if (hop === '' || isIP(hop) === 0) return p;
      if (!this.isTrusted(hop) || i === 0) return hop;
    }
    return p;
  }
}
