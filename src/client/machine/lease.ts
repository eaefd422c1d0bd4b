// The lease as the machine holds it: per IA, absolute deadlines on the machine's monotonic clock
// (renew, rebind, and each address's or prefix's preferred and valid end), plus the server and
// configuration it came with. Conversion to and from the persisted StoredLease lives here too.
import { decodeDuid, encodeDuid, duidLength } from '../../dhcpv6/duid.js'
import { formatIpv6, parseIpv6 } from '../../dhcpv6/ipv6.js'
import type { Duid } from '../../dhcpv6/model.js'
import { INFINITE_LIFETIME, type StoredLease } from '../../state/lease-store.js'

export { INFINITE_LIFETIME }

export interface LeaseEntry {
  /** Address, or the prefix itself for IA_PD. */
  value: string
  /** Prefix length for IA_PD entries; undefined for addresses (applied as /128). */
  prefixLength?: number
  preferredLifetime: number
  validLifetime: number
  /** Clock time (ms) the lifetimes count from. */
  since: number
}

export interface LeaseIa {
  kind: 'ia-na' | 'ia-pd'
  iaid: number
  /** T1/T2 in use (s), after the client's choice for 0 (RFC 8415 section 14.2/21.4). */
  t1: number
  t2: number
  /** Clock times (ms) to Renew and Rebind; Infinity when never. */
  renewAt: number
  rebindAt: number
  entries: LeaseEntry[]
}

export interface Lease {
  serverDuid: Duid
  serverAddress?: string
  /** Server Unicast option value; cleared by UseMulticast. */
  serverUnicast?: string
  ias: LeaseIa[]
  dnsServers: string[]
  domainSearch: string[]
  ntpServers: string[]
  /** RKAP reconfigure key (16 bytes) and the last replay detection value seen from the server. */
  reconfigureKey?: Uint8Array
  lastReplayDetection?: bigint
}

export interface Stateless {
  dnsServers: string[]
  domainSearch: string[]
  ntpServers: string[]
  /** Information Refresh Time in use (s), or INFINITE_LIFETIME. */
  refreshSeconds: number
  reconfigureKey?: Uint8Array
  lastReplayDetection?: bigint
  serverDuid?: Duid
}

const S = 1000

/** Clock time at which `lifetime` seconds counted from `since` end (Infinity for 0xFFFFFFFF). */
export function lifetimeEnd(since: number, lifetime: number): number {
  return lifetime === INFINITE_LIFETIME ? Infinity : since + lifetime * S
}

/** Seconds left at `now` of a lifetime (INFINITE_LIFETIME stays; never negative). */
export function secondsLeft(entrySince: number, lifetime: number, now: number): number {
  if (lifetime === INFINITE_LIFETIME) return INFINITE_LIFETIME
  return Math.max(0, Math.floor(lifetime - (now - entrySince) / S))
}

export const validEnd = (e: LeaseEntry): number => lifetimeEnd(e.since, e.validLifetime)

/**
 * T1/T2 the client uses for an IA. A server's 0 leaves the choice to the client (RFC 8415 sections
 * 14.2 and 21.4/21.21): we take the recommended 0.5 and 0.8 of the shortest preferred lifetime.
 * An infinite shortest preferred lifetime means no renewal at all.
 */
export function effectiveTimers(t1: number, t2: number, entries: readonly LeaseEntry[]): { t1: number; t2: number } {
  const preferred = entries.map(e => e.preferredLifetime)
  const shortest = preferred.length === 0 ? INFINITE_LIFETIME : Math.min(...preferred)
  const scaled = (factor: number) => (shortest === INFINITE_LIFETIME ? INFINITE_LIFETIME : Math.floor(shortest * factor))
  const chosenT1 = t1 === 0 ? scaled(0.5) : t1
  let chosenT2 = t2 === 0 ? scaled(0.8) : t2
  if (chosenT2 < chosenT1) chosenT2 = chosenT1
  return { t1: chosenT1, t2: chosenT2 }
}

export function duidToHex(duid: Duid): string {
  const out = new Uint8Array(duidLength(duid))
  encodeDuid(duid, out, 0)
  return Buffer.from(out).toString('hex')
}

export function duidFromHex(hex: string): Duid {
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'))
  if (bytes.length < 2) throw new Error(`DUID '${hex}' is shorter than 2 bytes`)
  return decodeDuid(bytes, 0, bytes.length)
}

/** Canonical text of an address (so lease values compare equal whatever their spelling). */
export function canonicalAddress(text: string): string {
  const bytes = parseIpv6(text)
  if (!bytes) throw new Error(`'${text}' is not an IPv6 address`)
  return formatIpv6(bytes)
}

/**
 * The lease as persisted and as hooks see it: counted from when its newest entries were received
 * (`obtainedAt`, on the wall clock `wallNow` stands for at `now`), so the entries of the last Reply
 * keep their lifetimes and T1/T2 exactly as received, as dhclient hands them to its script, and a
 * restarted daemon sees the same deadlines. Older entries (an IA that Reply did not extend) are
 * given as what was left of them at that time.
 */
export function toStoredLease(ifname: string, lease: Lease, now: number, wallNow: number, extra: { informationRefreshTime?: number } = {}): StoredLease {
  const since = lease.ias.flatMap(ia => ia.entries.map(e => e.since))
  const at = since.length > 0 ? Math.max(...since) : now
  const left = (deadline: number) => (deadline === Infinity ? INFINITE_LIFETIME : Math.max(0, Math.ceil((deadline - at) / S)))
  const stored: StoredLease = {
    interface: ifname,
    obtainedAt: Math.round(wallNow - (now - at)),
    serverDuid: duidToHex(lease.serverDuid),
    iaNa: lease.ias.filter(ia => ia.kind === 'ia-na').map(ia => ({
      iaid: ia.iaid, t1: left(ia.renewAt), t2: left(ia.rebindAt),
      addresses: ia.entries.map(e => ({ address: e.value, preferredLifetime: secondsLeft(e.since, e.preferredLifetime, at), validLifetime: secondsLeft(e.since, e.validLifetime, at) })),
    })),
    iaPd: lease.ias.filter(ia => ia.kind === 'ia-pd').map(ia => ({
      iaid: ia.iaid, t1: left(ia.renewAt), t2: left(ia.rebindAt),
      prefixes: ia.entries.map(e => ({ prefix: e.value, length: e.prefixLength ?? 128, preferredLifetime: secondsLeft(e.since, e.preferredLifetime, at), validLifetime: secondsLeft(e.since, e.validLifetime, at) })),
    })),
    dnsServers: [...lease.dnsServers],
    domainSearch: [...lease.domainSearch],
    ntpServers: [...lease.ntpServers],
  }
  if (lease.serverAddress !== undefined) stored.serverAddress = lease.serverAddress
  if (lease.serverUnicast !== undefined) stored.serverUnicast = lease.serverUnicast
  if (lease.reconfigureKey !== undefined) stored.reconfigureKey = Buffer.from(lease.reconfigureKey).toString('hex')
  if (lease.lastReplayDetection !== undefined) stored.reconfigureReplayDetection = lease.lastReplayDetection.toString()
  if (extra.informationRefreshTime !== undefined) stored.informationRefreshTime = extra.informationRefreshTime
  return stored
}

/**
 * A persisted lease back on the machine's clock: its age is the wall-clock time since it was
 * stored. Entries whose valid lifetime has ended are dropped; undefined when nothing is left.
 */
export function fromStoredLease(stored: StoredLease, now: number, wallNow: number): Lease | undefined {
  const since = now - Math.max(0, wallNow - stored.obtainedAt)
  const deadline = (seconds: number) => lifetimeEnd(since, seconds)
  const alive = (e: LeaseEntry) => validEnd(e) > now
  const ias: LeaseIa[] = [
    ...stored.iaNa.map((ia): LeaseIa => ({
      kind: 'ia-na', iaid: ia.iaid, t1: ia.t1, t2: ia.t2, renewAt: deadline(ia.t1), rebindAt: deadline(ia.t2),
      entries: ia.addresses.map(a => ({ value: canonicalAddress(a.address), preferredLifetime: a.preferredLifetime, validLifetime: a.validLifetime, since })).filter(alive),
    })),
    ...stored.iaPd.map((ia): LeaseIa => ({
      kind: 'ia-pd', iaid: ia.iaid, t1: ia.t1, t2: ia.t2, renewAt: deadline(ia.t1), rebindAt: deadline(ia.t2),
      entries: ia.prefixes.map(p => ({ value: canonicalAddress(p.prefix), prefixLength: p.length, preferredLifetime: p.preferredLifetime, validLifetime: p.validLifetime, since })).filter(alive),
    })),
  ].filter(ia => ia.entries.length > 0)
  if (ias.length === 0) return undefined
  const lease: Lease = {
    serverDuid: duidFromHex(stored.serverDuid),
    ias,
    dnsServers: [...stored.dnsServers],
    domainSearch: [...stored.domainSearch],
    ntpServers: [...stored.ntpServers],
  }
  if (stored.serverAddress !== undefined) lease.serverAddress = stored.serverAddress
  if (stored.serverUnicast !== undefined) lease.serverUnicast = stored.serverUnicast
  if (stored.reconfigureKey !== undefined) lease.reconfigureKey = Uint8Array.from(Buffer.from(stored.reconfigureKey, 'hex'))
  if (stored.reconfigureReplayDetection !== undefined) lease.lastReplayDetection = BigInt(stored.reconfigureReplayDetection)
  return lease
}

/** Clock time by which every entry of the lease has expired (Rebind's MRD end). */
export function latestValidEnd(lease: Lease): number {
  let latest = -Infinity
  for (const ia of lease.ias) for (const e of ia.entries) latest = Math.max(latest, validEnd(e))
  return latest
}

/** Clock time of the next entry expiry. */
export function earliestValidEnd(lease: Lease): number {
  let earliest = Infinity
  for (const ia of lease.ias) for (const e of ia.entries) earliest = Math.min(earliest, validEnd(e))
  return earliest
}

export function entryLabel(ia: { kind: 'ia-na' | 'ia-pd' }, e: LeaseEntry): string {
  return ia.kind === 'ia-pd' ? `${e.value}/${e.prefixLength ?? 128}` : e.value
}
