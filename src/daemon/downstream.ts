// `--pd-downstream IF[:N]`: the N-th /64 of a delegated prefix (IA_PD) goes to a downstream
// interface as PREFIX::1/64, with the prefix's lifetimes (so the kernel drops it on time even if
// the daemon dies), follows the lease through Renew/Rebind, and is removed when the prefix goes
// (Release, expiry, stop, a forgotten lease). It is driven by the machine's hook notices, which
// the machine issues in order with its other effects.
import type { HookNotice } from '../client/machine/ports.js'
import type { Logger } from '../log/logger.js'
import { INFINITE_LIFETIME, remainingSeconds, type StoredLease } from '../state/lease-store.js'
import type { AddressManager } from '../system/addresses.js'
import { addressInSubnet, subnet64 } from '../system/delegated-prefix.js'
import type { PdDownstreamSetting } from './config.js'

export const DOWNSTREAM_PREFIX_LENGTH = 64

/** The downstream /64 as `ctl status` shows it. */
export interface DownstreamStatus {
  interface: string
  /** PREFIX::1 of the chosen /64, applied as /64. */
  address: string
  prefixLength: number
  subnetIndex: number
  /** The delegated prefix it comes from, "prefix/len". */
  delegatedPrefix: string
  /** Lifetimes as applied, and the seconds left now (0xFFFFFFFF = infinite). */
  preferredLifetime: number
  validLifetime: number
  preferredLeft: number
  validLeft: number
}

interface Assigned {
  address: string
  delegatedPrefix: string
  preferredLifetime: number
  validLifetime: number
  /** Wall-clock ms when the lifetimes above were applied. */
  appliedAt: number
}

/** The first delegated prefix of the lease (the one in use first, if still there) that holds the chosen /64. */
function chooseSubnet(lease: StoredLease, subnetIndex: number, current: string | undefined): { prefix: string; length: number; subnet: string; validLifetime: number; preferredLifetime: number } | { unusable: string[] } | undefined {
  const prefixes = lease.iaPd.flatMap(ia => ia.prefixes)
  if (prefixes.length === 0) return undefined
  const ordered = [...prefixes].sort((a, b) => Number(`${b.prefix}/${b.length}` === current) - Number(`${a.prefix}/${a.length}` === current))
  const unusable: string[] = []
  for (const p of ordered) {
    try {
      return { ...p, subnet: subnet64(p.prefix, p.length, subnetIndex) }
    } catch (err) {
      unusable.push(`${p.prefix}/${p.length} (${(err as Error).message})`)
    }
  }
  return { unusable }
}

export class DownstreamPrefix {
  private assigned: Assigned | undefined

  constructor(
    private readonly setting: PdDownstreamSetting,
    private readonly addresses: AddressManager,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Follows one hook notice of the upstream interface's machine. */
  async onNotice(notice: HookNotice): Promise<void> {
    switch (notice.reason) {
      case 'BOUND6': case 'RENEW6': case 'REBIND6': case 'DELEGATED6':
        return this.follow(notice.lease, notice.reason)
      // what is left of the lease after an expiry or a Decline (nothing when everything went)
      case 'EXPIRE6': case 'DECLINE6':
        return this.follow(notice.lease, notice.reason)
      case 'RELEASE6': case 'STOP6':
        return this.withdraw(notice.reason)
      case 'INFORM6':
        return
    }
  }

  /** The lease is forgotten (removeLease): nothing delegated is left. */
  leaseForgotten(): Promise<void> {
    return this.withdraw('lease forgotten')
  }

  status(): DownstreamStatus | undefined {
    const a = this.assigned
    if (!a) return undefined
    const left = (lifetime: number) => remainingSeconds(lifetime, a.appliedAt, this.now())
    return {
      interface: this.setting.interface, address: a.address, prefixLength: DOWNSTREAM_PREFIX_LENGTH, subnetIndex: this.setting.subnetIndex,
      delegatedPrefix: a.delegatedPrefix, preferredLifetime: a.preferredLifetime, validLifetime: a.validLifetime,
      preferredLeft: left(a.preferredLifetime), validLeft: left(a.validLifetime),
    }
  }

  private async follow(lease: StoredLease | undefined, why: string): Promise<void> {
    const chosen = lease && chooseSubnet(lease, this.setting.subnetIndex, this.assigned?.delegatedPrefix)
    if (!lease || !chosen) return this.withdraw(why)
    if ('unusable' in chosen) {
      this.log.warn({ downstream: this.setting.interface, subnetIndex: this.setting.subnetIndex, prefixes: chosen.unusable },
        `no delegated prefix holds /64 number ${this.setting.subnetIndex} for ${this.setting.interface}: nothing assigned downstream (choose another index with --pd-downstream)`)
      return this.withdraw(why)
    }
    // The lease's lifetimes are already whole seconds left at obtainedAt (rounded down): take off
    // only whole seconds since, or a notice handled at once would lose a second to rounding twice.
    const age = Math.floor(Math.max(0, this.now() - lease.obtainedAt) / 1000)
    const left = (lifetime: number) => (lifetime === INFINITE_LIFETIME ? INFINITE_LIFETIME : Math.max(0, lifetime - age))
    const validLifetime = left(chosen.validLifetime)
    const preferredLifetime = Math.min(left(chosen.preferredLifetime), validLifetime)
    if (validLifetime === 0) return this.withdraw(why)
    const address = addressInSubnet(chosen.subnet)
    const delegatedPrefix = `${chosen.prefix}/${chosen.length}`
    const previous = this.assigned
    // BOUND6 and DELEGATED6 come with the same lease: apply it once
    if (previous && previous.address === address && previous.appliedAt === lease.obtainedAt) return
    if (previous && previous.address !== address) await this.withdraw(`${why}: the delegated prefix changed`)
    await this.addresses.apply({ address, prefixLength: DOWNSTREAM_PREFIX_LENGTH, validLifetime, preferredLifetime })
    this.assigned = { address, delegatedPrefix, validLifetime, preferredLifetime, appliedAt: lease.obtainedAt }
    const shown = (s: number) => (s === INFINITE_LIFETIME ? 'forever' : `${s} s`)
    this.log.info({
      reason: why, downstream: this.setting.interface, address: `${address}/${DOWNSTREAM_PREFIX_LENGTH}`, delegatedPrefix,
      subnetIndex: this.setting.subnetIndex, preferredLifetime, validLifetime,
    }, `${previous?.address === address ? 'refreshed' : 'assigned'} ${address}/${DOWNSTREAM_PREFIX_LENGTH} from delegated ${delegatedPrefix} on ${this.setting.interface} (preferred ${shown(preferredLifetime)}, valid ${shown(validLifetime)})`)
  }

  private async withdraw(why: string): Promise<void> {
    const a = this.assigned
    if (!a) return
    this.assigned = undefined
    const removed = await this.addresses.remove(a.address, DOWNSTREAM_PREFIX_LENGTH)
    this.log.info({ reason: why, downstream: this.setting.interface, address: `${a.address}/${DOWNSTREAM_PREFIX_LENGTH}`, delegatedPrefix: a.delegatedPrefix },
      removed
        ? `removed ${a.address}/${DOWNSTREAM_PREFIX_LENGTH} from ${this.setting.interface} (${why})`
        : `${a.address}/${DOWNSTREAM_PREFIX_LENGTH} was already gone from ${this.setting.interface} (${why})`)
  }
}
