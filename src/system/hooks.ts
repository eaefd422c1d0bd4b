// The user's hook script, run like ISC dhclient runs dhclient-script for DHCPv6 (see
// dhclient-script(8) and Debian's /sbin/dhclient-script): `reason` and `interface`, and the
// lease as new_* / old_* variables with dhclient's names, so existing scripts keep working.
// DELEGATED6, DECLINE6 and INFORM6 are ra6dhcp's additions.
import { spawn } from 'node:child_process'
import { StringDecoder } from 'node:string_decoder'

export const HOOK_REASONS = [
  'PREINIT6', 'BOUND6', 'RENEW6', 'REBIND6', 'DEPREF6', 'EXPIRE6', 'RELEASE6', 'STOP6', 'INFORM6', 'DELEGATED6', 'DECLINE6',
] as const
export type HookReason = (typeof HOOK_REASONS)[number]

/** One side (new or old) of what the hook learns. Every field is optional. */
export interface HookLeaseInfo {
  /** One IA_NA address (dhclient runs the script once per address). */
  ip6Address?: string
  /** 128 for IA_NA addresses, as dhclient sets it. */
  ip6Prefixlen?: number
  /** A delegated prefix as "PREFIX/LEN" (dhclient's new_ip6_prefix). */
  ip6Prefix?: string
  iaid?: number
  /** Seconds since the epoch when the IA was received (dhclient's new_starts / new_life_starts). */
  starts?: number
  lifeStarts?: number
  maxLife?: number
  preferredLife?: number
  renew?: number
  rebind?: number
  nameServers?: readonly string[]
  domainSearch?: readonly string[]
  ntpServers?: readonly string[]
  /** DUIDs as bytes; written as dhclient does (colon-separated hex without zero padding). */
  serverId?: Uint8Array
  clientId?: Uint8Array
}

export interface HookEvent {
  reason: HookReason
  interface: string
  new?: HookLeaseInfo
  old?: HookLeaseInfo
  /** For DELEGATED6: the downstream interface that got a /64, if any. */
  downstreamInterface?: string
}

// Values are written the way ISC dhclient 4.4 writes them (client/dhc6.c dhc6_marshall_values,
// common/print.c, common/options.c pretty_print_option), so scripts that parse them keep working.
const isPrintable = (byte: number): boolean => byte >= 0x20 && byte <= 0x7e

/** print_hex_1(4, iaid, 12): the 4 IAID bytes as "TEXT" in double quotes when all are printable, else "00:00:00:01". */
function iaidText(iaid: number): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(iaid)
  if ([...bytes].every(isPrintable)) return `"${bytes.toString('latin1')}"`
  return [...bytes].map(b => b.toString(16).padStart(2, '0')).join(':')
}

/**
 * A DUID option (format "X"): colon-separated hex WITHOUT zero padding ("0:1:0:1:2a:..."), as in
 * dhclient's lease file; bytes that are all printable (a trailing NUL allowed) come out as text,
 * with the shell-special characters backslash-escaped as pretty_escape does.
 */
function duidText(duid: Uint8Array): string {
  const bytes = [...duid]
  const text = bytes.length > 0 && (bytes.every(isPrintable) || (bytes.at(-1) === 0 && bytes.slice(0, -1).every(isPrintable)))
  if (!text) return bytes.map(b => b.toString(16)).join(':')
  return bytes.filter(isPrintable).map(b => String.fromCharCode(b)).join('').replace(/["'$`\\|&]/g, '\\$&')
}

function sideVariables(prefix: 'new' | 'old', info: HookLeaseInfo | undefined): Record<string, string> {
  if (!info) return {}
  const vars: Record<string, string | undefined> = {
    ip6_address: info.ip6Address,
    ip6_prefixlen: info.ip6Prefixlen?.toString(),
    ip6_prefix: info.ip6Prefix,
    iaid: info.iaid === undefined ? undefined : iaidText(info.iaid),
    starts: info.starts?.toString(),
    life_starts: info.lifeStarts?.toString(),
    max_life: info.maxLife?.toString(),
    preferred_life: info.preferredLife?.toString(),
    renew: info.renew?.toString(),
    rebind: info.rebind?.toString(),
    dhcp6_name_servers: info.nameServers?.join(' '),
    dhcp6_domain_search: info.domainSearch?.join(' '),
    // ra6dhcp's: dhclient has no definition for option 56 (NTP server).
    dhcp6_ntp_servers: info.ntpServers?.join(' '),
    dhcp6_server_id: info.serverId && duidText(info.serverId),
    dhcp6_client_id: info.clientId && duidText(info.clientId),
  }
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(vars)) if (value !== undefined) out[`${prefix}_${key}`] = value
  return out
}

/** The hook environment: a fixed PATH, then reason, interface and the new_ and old_ variables. */
export function hookEnvironment(event: HookEvent): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    reason: event.reason,
    interface: event.interface,
    ...sideVariables('new', event.new),
    ...sideVariables('old', event.old),
  }
  if (event.downstreamInterface) env.downstream_interface = event.downstreamInterface
  return env
}

export interface HookResult {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  /** Each line the script printed (stdout and stderr, interleaved as they came). */
  output: string[]
}

export interface HookOptions {
  /** Kill the script (its whole process group) after this long; 10 s by default. */
  timeoutMs?: number
  /** Called with each output line as it arrives, e.g. to log it. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
}

/** Runs `script` with the event's environment. Never rejects for a failing script: see the result. */
export function runHook(script: string, event: HookEvent, options: HookOptions = {}): Promise<HookResult> {
  const { timeoutMs = 10_000, onLine } = options
  return new Promise(resolve => {
    const output: string[] = []
    // Own process group, so a timeout ends the script and anything it started, and nothing else.
    const child = spawn(script, [], { env: hookEnvironment(event), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL') } catch { /* already gone */ }
      }
    }, timeoutMs)
    const collect = (stream: 'stdout' | 'stderr') => {
      const decoder = new StringDecoder('utf8')
      let pending = ''
      const emit = (line: string): void => { output.push(line); onLine?.(line, stream) }
      return {
        data: (chunk: Buffer): void => {
          pending += decoder.write(chunk)
          const lines = pending.split('\n')
          pending = lines.pop() ?? ''
          lines.forEach(emit)
        },
        end: (): void => { pending += decoder.end(); if (pending) emit(pending); pending = '' },
      }
    }
    const out = collect('stdout')
    const err = collect('stderr')
    child.stdout.on('data', out.data)
    child.stderr.on('data', err.data)
    child.once('error', e => {
      clearTimeout(timer)
      output.push(`cannot run hook ${script}: ${e.message}`)
      resolve({ exitCode: null, signal: null, timedOut: false, output })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      out.end(); err.end()
      resolve({ exitCode: code, signal, timedOut, output })
    })
  })
}
