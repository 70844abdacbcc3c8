import { BlockList, isIP } from 'node:net';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A matcher for client IPs from a list of addresses and CIDR ranges (`10.0.0.0/8`, `::1`).
 * Throws, naming the entry, when one is neither. IPv4 clients seen on an IPv6 socket
 * (`::ffff:127.0.0.1`) match IPv4 entries.
 */
export function ipAllowList(entries: readonly string[]): (ip: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, ...extra] = entry.trim().split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || extra.length > 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))) {
      throw new Error(`metrics.allow: "${entry}" is not an IP address or CIDR range`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (ip) => {
    if (!ip) return false;
    const mapped = IPV4_MAPPED.exec(ip)?.[1];
    if (mapped && isIP(mapped) === 4 && list.check(mapped, 'ipv4')) return true;
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}
