import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { ActionError, NonRetriableError } from '../errors.ts';

/**
 * The SSRF guard of outbound HTTP: a workflow's URL often comes from webhook data, so by
 * default Baton refuses targets inside the network it runs in (cloud metadata, databases,
 * admin ports) unless an operator allow-lists them in BATON_HTTP_ALLOW.
 */

export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  prefix: number;
}

export type LookupFn = (host: string) => Promise<string[]>;

export function parseIp(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { version: 4, bytes: Uint8Array.from(bare.split('.').map(Number)) };
  const noZone = bare.split('%')[0] ?? '';
  if (!isIPv6(noZone)) return undefined;
  return { version: 6, bytes: parseIPv6(noZone) };
}

/** Expects text that `isIPv6` accepted, so the shape is already known to be valid. */
function parseIPv6(text: string): Uint8Array {
  let body = text;
  const tail = body.slice(body.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    body = `${body.slice(0, -tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = body.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return ip.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  if (prefixText === undefined) return { ...ip, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { ...ip, prefix: Number(prefixText) };
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.version !== cidr.version) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const bits = Math.min(8, cidr.prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[bit / 8] ?? 0) & mask) !== ((cidr.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

const V4_BLOCKED: [string, string][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];
const V6_BLOCKED: [string, string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];
const BLOCKED = [...V4_BLOCKED, ...V6_BLOCKED].map(([cidr, kind]) => ({
  cidr: parseCidr(cidr) as Cidr,
  kind,
}));
// IPv6 forms that carry an IPv4 address in their last 32 bits and reach it.
const EMBEDS_V4 = ['::ffff:0:0/96', '64:ff9b::/96'].map((c) => parseCidr(c) as Cidr);

/** IPv4-mapped (and NAT64) IPv6 addresses become the IPv4 address they reach. */
export function unmapIp(ip: IpAddress): IpAddress {
  if (ip.version === 6 && EMBEDS_V4.some((c) => inCidr(ip, c)))
    return { version: 4, bytes: ip.bytes.slice(12) };
  return ip;
}

/** Why an address is off-limits ('loopback', 'private', …), or undefined for a public one. */
export function classifyIp(ip: IpAddress): string | undefined {
  const target = unmapIp(ip);
  return BLOCKED.find(({ cidr }) => inCidr(target, cidr))?.kind;
}

export interface AllowList {
  hosts: Set<string>;
  /** `*.example.internal` entries, stored as `.example.internal`. */
  suffixes: string[];
  cidrs: Cidr[];
  /** Entries that are neither a host name, an IP nor a CIDR; ignored so they never widen access. */
  invalid: string[];
}

const HOSTNAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

export function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { hosts: new Set(), suffixes: [], cidrs: [], invalid: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/\.$/, '');
    if (!entry) continue;
    const cidr = parseCidr(entry);
    if (cidr) list.cidrs.push(cidr);
    else if (entry.startsWith('*.') && HOSTNAME.test(entry.slice(2))) list.suffixes.push(entry.slice(1));
    else if (!entry.includes('/') && HOSTNAME.test(entry)) list.hosts.add(entry);
    else list.invalid.push(raw);
  }
  return list;
}

function hostAllowed(host: string, list: AllowList): boolean {
  return list.hosts.has(host) || list.suffixes.some((suffix) => host.endsWith(suffix));
}

function ipAllowed(ip: IpAddress, list: AllowList): boolean {
  const target = unmapIp(ip);
  return list.cidrs.some((cidr) => inCidr(ip, cidr) || inCidr(target, cidr));
}

const defaultLookup: LookupFn = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

export interface GuardOptions {
  /** Entries of BATON_HTTP_ALLOW (ctx.env.httpAllow). */
  allow: readonly string[];
  /** Injectable for tests; defaults to the system resolver. */
  lookup?: LookupFn;
}

/**
 * Refuses a URL unless it is http(s) and every address its host resolves to is public or
 * allow-listed. Checking every address matters: a name with one public and one private
 * record would otherwise reach the private one whenever the client picks it.
 *
 * Known gap (DNS rebinding): fetch resolves the name again when it connects, and neither
 * Bun's fetch nor ofetch lets us hand it the address we checked. A hostile DNS server with
 * a zero TTL could answer a public address here and a private one there. IP-literal URLs
 * and allow-listed names are not affected; pinning would need a custom connector.
 */
export async function assertPublicUrl(url: URL, options: GuardOptions): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NonRetriableError(`refused ${url.protocol}// URL: only http and https are allowed`, {
      details: { protocol: url.protocol },
    });
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const list = parseAllowList(options.allow);
  if (hostAllowed(host, list)) return;
  const literal = parseIp(host);
  const addresses = literal ? [host] : await resolve(host, options.lookup ?? defaultLookup);
  for (const address of addresses) {
    const ip = parseIp(address);
    const kind = ip ? classifyIp(ip) : 'unparseable';
    if (kind === undefined || (ip && ipAllowed(ip, list))) continue;
    const shown = ip ? formatIp(unmapIp(ip)) : address;
    const names = literal ? `"${shown}"` : `"${host}" or "${shown}"`;
    throw new NonRetriableError(
      `refused to connect to ${host}${literal ? '' : ` (${shown})`}: it is a ${kind} address, and outbound HTTP ` +
        `may not reach private, loopback or link-local targets; to allow it, add ${names} (or a CIDR) to BATON_HTTP_ALLOW`,
      { details: { host, address: shown, kind } },
    );
  }
}

async function resolve(host: string, lookup: LookupFn): Promise<string[]> {
  try {
    const addresses = await lookup(host);
    if (addresses.length === 0) throw new Error('no addresses');
    return addresses;
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ActionError(`could not resolve ${host}: ${code ?? (err as Error).message}`, {
      cause: err,
      details: { host, code },
    });
  }
}
