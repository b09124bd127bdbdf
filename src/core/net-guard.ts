// The private-network guard for outbound HTTP (DESIGN §5): webhooks, pilot http steps and agent tools refuse URLs
// whose host is, or resolves to, a private, loopback, link-local or otherwise non-public address, unless
// OPSBASE_ALLOW_PRIVATE_NETWORK=true. Checked when a URL is saved and again before each request (DNS changes).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
  ['64:ff9b:1::', 48], // local-use NAT64
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Is this literal IP address private / loopback / link-local (IPv4-mapped and NAT64 forms included)? */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:hhhh:hhhh), IPv4-compatible and NAT64 (64:ff9b::/96): judge the IPv4 inside.
  const embedded = lower.match(/^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (embedded) return blocked.check(embedded, 'ipv4');
  const hex = lower.match(/^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (hex) {
    const n = (Number.parseInt(hex[1], 16) << 16) | Number.parseInt(hex[2], 16);
    return blocked.check([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return blocked.check(address, 'ipv6');
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: 'invalid_url' | 'scheme' | 'private' | 'unresolvable'; message: string };

/**
 * Is `raw` an http(s) URL that outbound requests may reach? Resolves the host (every address it resolves to must
 * be public) unless `allowPrivate`.
 */
export async function checkOutboundUrl(raw: string, opts: { allowPrivate: boolean }): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid_url', message: 'Not a valid URL.' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'scheme', message: `Only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}.` };
  }
  if (url.username || url.password) return { ok: false, reason: 'invalid_url', message: 'URLs with credentials are not allowed.' };
  if (opts.allowPrivate) return { ok: true, url };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return { ok: false, reason: 'unresolvable', message: `The host ${host} does not resolve.` };
    }
  }
  if (!addresses.length) return { ok: false, reason: 'unresolvable', message: `The host ${host} does not resolve.` };
  const bad = addresses.find(isPrivateAddress);
  if (bad) {
    return {
      ok: false,
      reason: 'private',
      message: `The host ${host} resolves to a private, loopback or link-local address (${bad}); outbound requests there are refused (OPSBASE_ALLOW_PRIVATE_NETWORK).`,
    };
  }
  return { ok: true, url };
}
