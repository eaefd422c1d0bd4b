// The lease of one interface, persisted as `STATE_DIR/IF.lease.json` (mode 0600, written
// atomically) so a restarted daemon can Confirm or Renew instead of starting over.
import { isIPv6 } from 'node:net'
import { unlink } from 'node:fs/promises'
import { field, isFiniteNumber, isHex, isRecord, isString, isStringArray, isUint32, loadJsonFile, saveJsonFile, type JsonFileFormat, type LoadResult } from './json-file.js'
import { checkInterfaceName } from './interface-name.js'
import { statePaths } from './paths.js'

/** Lifetimes and T1/T2 are in seconds as received; 0xFFFFFFFF means infinity (RFC 8415 section 7.7). */
export const INFINITE_LIFETIME = 0xffffffff

export interface StoredAddress {
  address: string
  preferredLifetime: number
  validLifetime: number
}

export interface StoredPrefix {
  /** The prefix itself, e.g. "2001:db8:1::" (without the length). */
  prefix: string
  length: number
  preferredLifetime: number
  validLifetime: number
}

export interface StoredIaNa {
  iaid: number
  t1: number
  t2: number
  addresses: StoredAddress[]
}

export interface StoredIaPd {
  iaid: number
  t1: number
  t2: number
  prefixes: StoredPrefix[]
}

export interface StoredLease {
  interface: string
  /** Wall-clock time (ms since the epoch) the Reply was received; all lifetimes count from it. */
  obtainedAt: number
  /** The server's DUID, hex. */
  serverDuid: string
  /** Source address of the server's Reply (link-local), for logging and Confirm. */
  serverAddress?: string
  /** Server Unicast option (12) value, when the server allowed unicast. */
  serverUnicast?: string
  iaNa: StoredIaNa[]
  iaPd: StoredIaPd[]
  dnsServers: string[]
  domainSearch: string[]
  ntpServers: string[]
  /** Reconfigure Key (RKAP, RFC 8415 section 20.4), hex, when the server sent one. */
  reconfigureKey?: string
  /**
   * RKAP replay detection (RFC 8415 section 20.3): the last value accepted from the server, from the
   * Reply that brought the key or a later Reconfigure. A 64-bit counter, so a decimal string: a JS
   * number loses integers above 2^53.
   */
  reconfigureReplayDetection?: string
  /** Information Refresh Time (s) for stateless leases. */
  informationRefreshTime?: number
}

const isIPv6String = (v: unknown): v is string => typeof v === 'string' && isIPv6(v)
const UINT64_MAX = (1n << 64n) - 1n
const isUint64Decimal = (v: unknown): v is string => typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v) && BigInt(v) <= UINT64_MAX
const isIPv6Array = (v: unknown): v is string[] => Array.isArray(v) && v.every(isIPv6String)

function validateLease(payload: unknown): StoredLease {
  if (!isRecord(payload)) throw new Error('data: expected an object')
  const p = 'data'
  const lease: StoredLease = {
    interface: checkInterfaceName(field(payload, 'interface', isString, 'an interface name', p)),
    obtainedAt: field(payload, 'obtainedAt', isFiniteNumber, 'a time in ms', p),
    serverDuid: field(payload, 'serverDuid', isHex, 'lowercase hex', p),
    iaNa: field(payload, 'iaNa', Array.isArray, 'an array', p).map((ia, i) => validateIaNa(ia, `${p}.iaNa[${i}]`)),
    iaPd: field(payload, 'iaPd', Array.isArray, 'an array', p).map((ia, i) => validateIaPd(ia, `${p}.iaPd[${i}]`)),
    dnsServers: field(payload, 'dnsServers', isIPv6Array, 'IPv6 addresses', p),
    domainSearch: field(payload, 'domainSearch', isStringArray, 'domain names', p),
    ntpServers: field(payload, 'ntpServers', isStringArray, 'NTP server addresses or names', p),
  }
  if (payload.serverAddress !== undefined) lease.serverAddress = field(payload, 'serverAddress', isIPv6String, 'an IPv6 address', p)
  if (payload.serverUnicast !== undefined) lease.serverUnicast = field(payload, 'serverUnicast', isIPv6String, 'an IPv6 address', p)
  if (payload.reconfigureKey !== undefined) lease.reconfigureKey = field(payload, 'reconfigureKey', isHex, 'lowercase hex', p)
  if (payload.reconfigureReplayDetection !== undefined) {
    lease.reconfigureReplayDetection = field(payload, 'reconfigureReplayDetection', isUint64Decimal, 'a 64-bit unsigned integer as a decimal string (0..18446744073709551615)', p)
  }
  if (payload.informationRefreshTime !== undefined) lease.informationRefreshTime = field(payload, 'informationRefreshTime', isUint32, 'seconds', p)
  return lease
}

function timers(obj: Record<string, unknown>, path: string): { iaid: number; t1: number; t2: number } {
  return {
    iaid: field(obj, 'iaid', isUint32, 'a 32-bit IAID', path),
    t1: field(obj, 't1', isUint32, 'seconds', path),
    t2: field(obj, 't2', isUint32, 'seconds', path),
  }
}

function lifetimes(obj: Record<string, unknown>, path: string): { preferredLifetime: number; validLifetime: number } {
  return {
    preferredLifetime: field(obj, 'preferredLifetime', isUint32, 'seconds', path),
    validLifetime: field(obj, 'validLifetime', isUint32, 'seconds', path),
  }
}

function validateIaNa(ia: unknown, path: string): StoredIaNa {
  if (!isRecord(ia)) throw new Error(`${path}: expected an object`)
  const addresses = field(ia, 'addresses', Array.isArray, 'an array', path).map((a, i) => {
    const at = `${path}.addresses[${i}]`
    if (!isRecord(a)) throw new Error(`${at}: expected an object`)
    return { address: field(a, 'address', isIPv6String, 'an IPv6 address', at), ...lifetimes(a, at) }
  })
  return { ...timers(ia, path), addresses }
}

function validateIaPd(ia: unknown, path: string): StoredIaPd {
  if (!isRecord(ia)) throw new Error(`${path}: expected an object`)
  const isLength = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 128
  const prefixes = field(ia, 'prefixes', Array.isArray, 'an array', path).map((x, i) => {
    const at = `${path}.prefixes[${i}]`
    if (!isRecord(x)) throw new Error(`${at}: expected an object`)
    return { prefix: field(x, 'prefix', isIPv6String, 'an IPv6 prefix', at), length: field(x, 'length', isLength, 'a length 0..128', at), ...lifetimes(x, at) }
  })
  return { ...timers(ia, path), prefixes }
}

const LEASE_FORMAT: JsonFileFormat<StoredLease> = { format: 'ra6dhcp-lease', version: 1, validate: validateLease }

export class LeaseStore {
  constructor(readonly stateDir: string) {}

  pathFor(ifname: string): string {
    return statePaths(this.stateDir).lease(ifname)
  }

  /** Loads the interface's lease; a corrupt or foreign file is moved aside and reported, never thrown. */
  load(ifname: string): Promise<LoadResult<StoredLease>> {
    return loadJsonFile(this.pathFor(ifname), LEASE_FORMAT)
  }

  save(lease: StoredLease): Promise<void> {
    return saveJsonFile(this.pathFor(lease.interface), LEASE_FORMAT, lease)
  }

  /** Forgets the lease (after Release or expiry); no error if there is none. */
  async remove(ifname: string): Promise<void> {
    await unlink(this.pathFor(ifname)).catch(err => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    })
  }
}

/**
 * Seconds left of a lifetime counted from `obtainedAt` at wall-clock `nowMs` (never negative);
 * infinity stays INFINITE_LIFETIME.
 */
export function remainingSeconds(lifetime: number, obtainedAt: number, nowMs: number): number {
  if (lifetime === INFINITE_LIFETIME) return INFINITE_LIFETIME
  return Math.max(0, Math.floor(lifetime - (nowMs - obtainedAt) / 1000))
}
