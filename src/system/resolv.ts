// DNS settings from DHCPv6 go to a resolv.conf FRAGMENT of our own, never to /etc/resolv.conf:
// the user (resolvconf, systemd-resolved, a hook) decides whether and how to merge it. Writing
// the host's resolv.conf from a test once broke name resolution for a whole build machine.
import { realpathSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { resolve } from 'node:path'
import { isIPv6 } from 'node:net'
import { UsageError } from '../cli/usage-error.js'
import { statePaths } from '../state/paths.js'
import { writeFileAtomic } from '../state/atomic.js'

export const SYSTEM_RESOLV_CONF = '/etc/resolv.conf'

export interface DnsSettings {
  /** DNS Recursive Name Server option (23) addresses. */
  nameservers: readonly string[]
  /** Domain Search List option (24), already decoded to dotted names. */
  search: readonly string[]
}

/** Default fragment path: STATE_DIR/IF.resolv.conf. */
export function defaultResolvFragmentPath(stateDir: string, ifname: string): string {
  return statePaths(stateDir).resolvFragment(ifname)
}

/** Refuses the system resolv.conf (also through a symlink) unless explicitly allowed. */
export function checkFragmentPath(path: string, allowSystemResolvConf = false): string {
  const absolute = resolve(path)
  let real = absolute
  try { real = realpathSync(absolute) } catch { /* not there yet */ }
  let system = SYSTEM_RESOLV_CONF
  try { system = realpathSync(SYSTEM_RESOLV_CONF) } catch { /* no system resolv.conf */ }
  if (!allowSystemResolvConf && (absolute === SYSTEM_RESOLV_CONF || real === system)) {
    throw new UsageError(`refusing to write DNS settings to ${SYSTEM_RESOLV_CONF} (${path}): give --resolv-conf a fragment path of its own (e.g. /run/ra6dhcp/IF.resolv.conf) and merge it with resolvconf or a hook`)
  }
  return absolute
}

/** The fragment's text. Link-local servers get the interface as zone (fe80::1%eth0), or they are unusable. */
export function formatResolvFragment(ifname: string, dns: DnsSettings): string {
  const lines = [`# DNS from DHCPv6 on ${ifname}, written by ra6dhcp; rewritten on every lease change.`]
  for (const server of dns.nameservers) {
    if (!isIPv6(server)) throw new RangeError(`DNS server '${server}' is not an IPv6 address`)
    lines.push(`nameserver ${/^fe[89ab]/i.test(server) && !server.includes('%') ? `${server}%${ifname}` : server}`)
  }
  const search = dns.search.map(d => d.replace(/\.$/, '')).filter(d => d.length > 0)
  for (const d of search) if (/[\s#;]/.test(d)) throw new RangeError(`search domain '${d}' cannot be written to resolv.conf`)
  if (search.length > 0) lines.push(`search ${search.join(' ')}`)
  return `${lines.join('\n')}\n`
}

export async function writeResolvFragment(path: string, ifname: string, dns: DnsSettings, options: { allowSystemResolvConf?: boolean } = {}): Promise<void> {
  const target = checkFragmentPath(path, options.allowSystemResolvConf)
  await writeFileAtomic(target, formatResolvFragment(ifname, dns), { mode: 0o644, createDirectory: true })
}

/** Removes the fragment (lease released or expired); no error if it is not there. */
export async function removeResolvFragment(path: string, options: { allowSystemResolvConf?: boolean } = {}): Promise<void> {
  await unlink(checkFragmentPath(path, options.allowSystemResolvConf)).catch(err => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  })
}
