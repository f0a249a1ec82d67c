import { describe, expect, it } from 'vitest';
import { ActionError, NonRetriableError } from '../../../src/errors.ts';
import {
  assertPublicUrl,
  classifyIp,
  formatIp,
  inCidr,
  type LookupFn,
  parseAllowList,
  parseCidr,
  parseIp,
} from '../../../src/plugins/net-guard.ts';

const classify = (text: string) => {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an IP: ${text}`);
  return classifyIp(ip);
};
const matches = (ip: string, cidr: string) => {
  const parsedIp = parseIp(ip);
  const parsedCidr = parseCidr(cidr);
  if (!parsedIp || !parsedCidr) throw new Error(`bad test data: ${ip} ${cidr}`);
  return inCidr(parsedIp, parsedCidr);
};
const fixedLookup =
  (table: Record<string, string[]>): LookupFn =>
  async (host) => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };

describe('parseIp', () => {
  it('parses IPv4, IPv6 (compressed, bracketed, zoned, with an IPv4 tail) and refuses the rest', () => {
    expect(parseIp('10.1.2.3')).toEqual({ version: 4, bytes: Uint8Array.from([10, 1, 2, 3]) });
    expect(formatIp(parseIp('[::1]') ?? { version: 4, bytes: new Uint8Array() })).toBe('::1');
    expect(parseIp('fe80::1%eth0')?.bytes[0]).toBe(0xfe);
    expect(Array.from(parseIp('::ffff:1.2.3.4')?.bytes.slice(10) ?? [])).toEqual([0xff, 0xff, 1, 2, 3, 4]);
    expect(parseIp('2001:db8:0:0:1:0:0:1')?.bytes[15]).toBe(1);
    for (const bad of ['', 'localhost', '1.2.3', '256.1.1.1', '1::2::3', 'example.com'])
      expect(parseIp(bad)).toBeUndefined();
  });
});

describe('classifyIp', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['10.20.30.40', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'],
  ])('%s is %s', (ip, kind) => {
    expect(classify(ip)).toBe(kind);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '100.63.255.255',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '2001:db8::1',
  ])('%s is public', (ip) => {
    expect(classify(ip)).toBeUndefined();
  });
});

describe('CIDR matching', () => {
  it('matches IPv4 and IPv6 prefixes, including ones that do not end on a byte', () => {
    expect(matches('10.9.8.7', '10.0.0.0/8')).toBe(true);
    expect(matches('11.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(matches('100.64.0.0', '100.64.0.0/10')).toBe(true);
    expect(matches('100.128.0.0', '100.64.0.0/10')).toBe(false);
    expect(matches('127.0.0.1', '127.0.0.1/32')).toBe(true);
    expect(matches('127.0.0.2', '127.0.0.1/32')).toBe(false);
    expect(matches('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(matches('fd00::5', 'fc00::/7')).toBe(true);
    expect(matches('fe00::5', 'fc00::/7')).toBe(false);
    expect(matches('2001:db8:1::1', '2001:db8::/32')).toBe(true);
    expect(matches('2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(matches('10.0.0.1', '::/0')).toBe(false); // families never mix
  });

  it('refuses malformed CIDRs', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'host/8', '10.0.0/8']) {
      expect(parseCidr(bad)).toBeUndefined();
    }
  });

  it('parses allow-lists into hosts, suffixes and CIDRs, and sets bad entries aside', () => {
    const list = parseAllowList([
      'LocalHost.',
      '*.corp.internal',
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      'a b',
      '1.2.3.4/40',
    ]);
    expect([...list.hosts]).toEqual(['localhost']);
    expect(list.suffixes).toEqual(['.corp.internal']);
    expect(list.cidrs.map((c) => `${formatIp(c)}/${c.prefix}`)).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    expect(list.invalid).toEqual(['a b', '1.2.3.4/40']);
  });
});

describe('assertPublicUrl', () => {
  const lookup = fixedLookup({
    'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'mixed.example': ['93.184.215.14', '10.0.0.5'],
    'metadata.example': ['169.254.169.254'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'api.corp.internal': ['10.1.1.1'],
  });
  const check = (url: string, allow: string[] = []) => assertPublicUrl(new URL(url), { allow, lookup });

  it('lets public hosts through', async () => {
    await expect(check('https://public.example/x')).resolves.toBeUndefined();
    await expect(check('http://8.8.8.8/')).resolves.toBeUndefined();
  });

  it('refuses a name when any of its addresses is private, naming host, address and the way out', async () => {
    const err = await check('https://mixed.example/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect((err as Error).message).toContain('mixed.example');
    expect((err as Error).message).toContain('10.0.0.5');
    expect((err as Error).message).toContain('BATON_HTTP_ALLOW');
    expect((err as NonRetriableError).details).toMatchObject({
      host: 'mixed.example',
      address: '10.0.0.5',
      kind: 'private',
    });
  });

  it('refuses IP literals in every spelling the URL parser accepts', async () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://0x7f000001/',
      'http://2130706433/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fe80::1]/',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/',
    ]) {
      await expect(check(url), url).rejects.toBeInstanceOf(NonRetriableError);
    }
    await expect(check('http://mapped.example/')).rejects.toThrow(/127\.0\.0\.1/);
  });

  it('allows by host name, wildcard, IP and CIDR (IPv4-mapped addresses match IPv4 entries)', async () => {
    await expect(check('http://metadata.example/', ['metadata.example'])).resolves.toBeUndefined();
    await expect(check('http://api.corp.internal/', ['*.corp.internal'])).resolves.toBeUndefined();
    await expect(check('http://127.0.0.1:1234/', ['127.0.0.1'])).resolves.toBeUndefined();
    await expect(check('http://127.0.0.1:1234/', ['127.0.0.0/8'])).resolves.toBeUndefined();
    await expect(check('http://[::1]/', ['::1/128'])).resolves.toBeUndefined();
    await expect(check('http://mapped.example/', ['127.0.0.1/32'])).resolves.toBeUndefined();
    await expect(check('http://mixed.example/', ['10.0.0.0/8'])).resolves.toBeUndefined();
    await expect(check('http://127.0.0.2/', ['127.0.0.1'])).rejects.toBeInstanceOf(NonRetriableError);
    await expect(check('http://10.0.0.1/', ['not a cidr/99'])).rejects.toBeInstanceOf(NonRetriableError);
  });

  it('refuses schemes other than http and https', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://public.example/', 'gopher://public.example/']) {
      await expect(check(url), url).rejects.toThrow(/only http and https/);
    }
  });

  it('reports a failed lookup as retriable', async () => {
    const err = await check('http://nowhere.example/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expect((err as Error).message).toContain('ENOTFOUND');
  });
});
