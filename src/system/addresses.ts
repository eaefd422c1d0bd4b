// IA addresses on the interface, through iproute2: applied as /128 (the prefix length comes from
// the RA, not from DHCPv6: RFC 8415 section 21.6), with the lease's lifetimes so the kernel
// deprecates and removes them on time even if the daemon dies.
import { isIPv6 } from 'node:net'
import type { Clock } from '../client/clock.js'
import { CommandError, type CommandRunner } from './command.js'

/** RFC 8415 section 7.7: 0xFFFFFFFF means infinity; iproute2 spells it "forever". */
const INFINITE_LIFETIME = 0xffffffff

export interface AppliedAddress {
  address: string
  prefixLength: number
  scope: string
  /** Seconds left; INFINITE_LIFETIME for forever. */
  validLifetime: number
  preferredLifetime: number
  tentative: boolean
  dadFailed: boolean
  noDad: boolean
}

export type DadOutcome = 'ok' | 'dadfailed' | 'absent' | 'timeout'

export interface ApplyOptions {
  address: string
  validLifetime: number
  preferredLifetime: number
  /** Skip duplicate address detection (only when configured: DAD failure is what triggers Decline). */
  noDad?: boolean
  /** Prefix length; 128 for IA_NA addresses, 64 for a downstream address from a delegated prefix. */
  prefixLength?: number
}

function lifetime(seconds: number, what: string): string {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > INFINITE_LIFETIME) throw new RangeError(`${what} ${seconds} is not a 32-bit lifetime in seconds`)
  return seconds === INFINITE_LIFETIME ? 'forever' : String(seconds)
}

/** Canonical text form, so addresses from the lease and from `ip -j` compare equal. */
export function canonicalIPv6(address: string): string {
  if (!isIPv6(address) || address.includes('%')) throw new RangeError(`'${address}' is not an IPv6 address (without zone)`)
  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

export class AddressManager {
  constructor(
    readonly ifname: string,
    private readonly runner: CommandRunner,
  ) {}

  /** Adds the address or updates its lifetimes (`ip -6 addr replace`). */
  async apply(options: ApplyOptions): Promise<void> {
    const { address, validLifetime, preferredLifetime, noDad, prefixLength = 128 } = options
    canonicalIPv6(address)
    const valid = lifetime(validLifetime, 'valid lifetime')
    const preferred = lifetime(preferredLifetime, 'preferred lifetime')
    // RFC 8415 section 21.6: an address with preferred > valid is discarded by the client; here
    // it would be a bug in the caller.
    if (preferredLifetime > validLifetime) throw new RangeError(`preferred lifetime ${preferredLifetime} > valid lifetime ${validLifetime} for ${address}`)
    const argv = ['ip', '-6', 'addr', 'replace', `${address}/${prefixLength}`, 'dev', this.ifname, 'valid_lft', valid, 'preferred_lft', preferred]
    if (noDad) argv.push('nodad')
    await this.runner.run(argv)
  }

  /** Removes the address; returns false if it was not there (already expired, or removed by hand). */
  async remove(address: string, prefixLength = 128): Promise<boolean> {
    try {
      await this.runner.run(['ip', '-6', 'addr', 'del', `${address}/${prefixLength}`, 'dev', this.ifname])
      return true
    } catch (err) {
      if (err instanceof CommandError && /address not found|Cannot assign requested address/i.test(err.stderr)) return false
      throw err
    }
  }

  /** The interface's IPv6 addresses as the kernel reports them (`ip -j -6 addr show dev IF`). */
  async list(): Promise<AppliedAddress[]> {
    const { stdout } = await this.runner.run(['ip', '-j', '-6', 'addr', 'show', 'dev', this.ifname])
    const links = JSON.parse(stdout || '[]') as { addr_info?: Record<string, unknown>[] }[]
    const out: AppliedAddress[] = []
    for (const link of links) {
      for (const a of link.addr_info ?? []) {
        if (a.family !== 'inet6' || typeof a.local !== 'string') continue
        out.push({
          address: canonicalIPv6(a.local),
          prefixLength: Number(a.prefixlen),
          scope: String(a.scope),
          validLifetime: Number(a.valid_life_time),
          preferredLifetime: Number(a.preferred_life_time),
          tentative: a.tentative === true,
          dadFailed: a.dadfailed === true,
          noDad: a.nodad === true,
        })
      }
    }
    return out
  }

  async find(address: string): Promise<AppliedAddress | undefined> {
    const wanted = canonicalIPv6(address)
    return (await this.list()).find(a => a.address === wanted)
  }

  /**
   * Watches a newly applied address until DAD settles: 'ok' once it is no longer tentative,
   * 'dadfailed' when a duplicate was detected (the trigger for Decline, RFC 8415 section
   * 18.2.8), 'absent' if it was not there at all, 'timeout' after `timeoutMs`. Polls `ip -j`
   * every `pollMs` on the injected clock.
   *
   * The kernel reports a duplicate in two ways (net/ipv6/addrconf.c, addrconf_dad_stop): an
   * address with infinite lifetimes stays, flagged `dadfailed`; one with finite lifetimes (every
   * DHCPv6 lease) is deleted outright. So an address that vanishes while still tentative also
   * counts as a DAD failure.
   */
  waitForDad(address: string, clock: Clock, options: { timeoutMs?: number; pollMs?: number; justApplied?: boolean } = {}): Promise<DadOutcome> {
    const { timeoutMs = 10_000, pollMs = 100, justApplied = false } = options
    const deadline = clock.now() + timeoutMs
    // The kernel deletes a finite-lifetime address whose DAD failed, possibly before the first
    // look: when the caller has just added it, finding it gone means DAD failed.
    let wasPresent = justApplied
    return new Promise((resolve, reject) => {
      const check = (): void => {
        this.find(address).then(found => {
          if (found === undefined) return resolve(wasPresent ? 'dadfailed' : 'absent')
          if (found.dadFailed) return resolve('dadfailed')
          wasPresent ||= found.tentative
          if (!found.tentative) return resolve('ok')
          if (clock.now() >= deadline) return resolve('timeout')
          clock.setTimer(pollMs, check)
        }, reject)
      }
      check()
    })
  }
}
