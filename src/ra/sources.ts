// The two RA sources. Each turns kernel messages into RaEvents through the same callbacks.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { NETLINK, RA6MON, RTNETLINK } from './abi.js'
import { NetlinkChannel } from './channel.js'
import { MODULE_NOT_LOADED, RaSourceError } from './errors.js'
import type { RaEvent, RaSourceName } from './events.js'
import { isSystemError, type SocketFactory } from './native.js'
import { decodeNdOptions } from './nd-options.js'
import { decodeRa6monEvent, decodeRa6monStats, encodeGetStats, encodeRegister } from './ra6mon-protocol.js'
import { decodeLink, decodeUserOption, encodeGetLinkDump, raFlagsOf } from './rtnetlink-protocol.js'
import type { NetlinkMessage } from './netlink.js'

export interface SourceCallbacks {
  event(event: RaEvent): void
  /** The kernel dropped messages for this socket (ENOBUFS). */
  overrun(): void
  /** The source has resynchronised after one or more overruns. */
  recovered(): void
  malformed(reason: string): void
  /** An event suppressed because this source already delivered the same RA (same ra6mon seq). */
  duplicate(event: RaEvent): void
  error(err: Error): void
}

export interface RaSource {
  readonly name: RaSourceName
  readonly portId: number
  start(): Promise<void>
  close(): void
  ref(): void
  unref(): void
}

/** Where the TS side learns ra6mon's protocol number. */
export function readRa6monProtocol(path: string = RA6MON.PROTOCOL_SYSFS_PATH): number | undefined {
  if (!existsSync(path)) return undefined
  const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
  return Number.isInteger(value) ? value : undefined
}

export function ifindexOf(ifname: string): number {
  const path = `/sys/class/net/${ifname}/ifindex`
  if (ifname.includes('/') || !existsSync(path)) {
    throw new RaSourceError(`interface "${ifname}" does not exist here (see 'ip link'; in a namespace, run under 'ip netns exec')`, { code: 'ENODEV' })
  }
  return Number.parseInt(readFileSync(path, 'utf8'), 10)
}

/** ifindex -> name from sysfs, for interfaces the kernel has not named to us yet. */
function ifnameFromSysfs(ifindex: number): string | undefined {
  try {
    for (const name of readdirSync('/sys/class/net')) {
      if (Number.parseInt(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'), 10) === ifindex) return name
    }
  } catch { /* no sysfs: the caller falls back to "if<N>" */ }
  return undefined
}

/**
 * Recovery after ENOBUFS. Asking the kernel again while our queue is still full would lose the
 * answer too, so the request waits until a wake-up has drained the queue; an overrun during the
 * request cancels it and starts over once drained. `recovered` fires when one completes cleanly.
 */
class Resynchroniser {
  private needed = false
  private inFlight: { seq: number } | undefined

  constructor(
    private readonly channel: NetlinkChannel,
    private readonly request: (seq: number) => Promise<unknown>,
    private readonly callbacks: SourceCallbacks,
  ) {}

  overrun(): void {
    this.needed = true
    if (this.inFlight) {
      const { seq } = this.inFlight
      this.inFlight = undefined
      this.channel.cancel(seq)
    }
    this.callbacks.overrun()
  }

  /** The socket's queue is empty now. */
  drained(): void {
    if (!this.needed || this.inFlight || this.channel.closed) return
    this.needed = false
    const attempt = { seq: this.channel.allocateSeq() }
    this.inFlight = attempt
    this.request(attempt.seq).then(
      () => {
        if (this.inFlight !== attempt) return
        this.inFlight = undefined
        if (!this.needed) this.callbacks.recovered()
      },
      (err: Error) => {
        if (this.inFlight !== attempt) return // cancelled by a newer overrun
        this.inFlight = undefined
        if (!this.channel.closed) this.callbacks.error(err)
      },
    )
  }
}

function openError(err: unknown, protocol: number): Error {
  if (!isSystemError(err)) return err as Error
  const message = err.code === 'EPROTONOSUPPORT' && protocol !== NETLINK.NETLINK_ROUTE
    ? `${MODULE_NOT_LOADED} (netlink protocol ${protocol} is not registered in this network namespace)`
    : err.message
  return new RaSourceError(message, { errno: err.errno, code: err.code, syscall: err.syscall, cause: err })
}

// ---------------------------------------------------------------------------------------------

export interface Ra6monSourceOptions {
  protocol: number
  ifindexes: number[]
  receiveBufferBytes?: number
  openSocket?: SocketFactory
}

/** The module's private protocol: every accepted RA, with the current state replayed on register. */
export class Ra6monSource implements RaSource {
  readonly name = 'ra6mon' as const
  private readonly channel: NetlinkChannel
  /** Highest ra6mon seq delivered per interface: replays of an RA already seen are duplicates. */
  private readonly lastSeq = new Map<number, bigint>()
  private readonly resync: Resynchroniser

  constructor(private readonly options: Ra6monSourceOptions, private readonly callbacks: SourceCallbacks) {
    try {
      this.channel = new NetlinkChannel(
        { protocol: options.protocol, receiveBufferBytes: options.receiveBufferBytes },
        {
          message: m => this.onMessage(m),
          wakeupDone: more => { if (!more) this.resync.drained() },
          overrun: () => this.resync.overrun(),
          malformed: reason => callbacks.malformed(reason),
          error: err => callbacks.error(err),
        },
        options.openSocket,
      )
    } catch (err) {
      throw openError(err, options.protocol)
    }
    this.resync = new Resynchroniser(this.channel, seq => this.register(seq), callbacks)
  }

  get portId(): number { return this.channel.portId }

  /** Registers; resolves after the kernel's ack, i.e. after the replayed events were delivered. */
  async start(): Promise<void> {
    await this.register(this.channel.allocateSeq())
  }

  private async register(seq: number): Promise<void> {
    await this.channel.request('ra6mon register', seq, encodeRegister(seq, this.options.ifindexes))
  }

  /** The module's counters for this namespace (RA6MON_MSG_GET_STATS). */
  async stats(): Promise<Record<string, bigint>> {
    const seq = this.channel.allocateSeq()
    const replies = await this.channel.request('ra6mon get stats', seq, encodeGetStats(seq), {
      until: reply => reply.type === RA6MON.MSG_STATS,
    })
    const reply = replies.find(r => r.type === RA6MON.MSG_STATS)
    if (!reply) throw new RaSourceError('ra6mon get stats: the kernel answered without statistics', { code: 'EPROTO' })
    return decodeRa6monStats(reply)
  }

  close(): void { this.channel.close() }
  ref(): void { this.channel.ref() }
  unref(): void { this.channel.unref() }

  private onMessage(message: NetlinkMessage): void {
    if (message.type === RA6MON.MSG_STATS) return // answers stats(), which reads it from the request
    if (message.type !== RA6MON.MSG_RA_EVENT) {
      this.callbacks.malformed(`unexpected ra6mon message type ${message.type}`)
      return
    }
    const { event, optionProblem } = decodeRa6monEvent(message)
    if (optionProblem) this.callbacks.malformed(`RA on ${event.ifname} from ${event.router}: ${optionProblem}`)
    const last = this.lastSeq.get(event.ifindex)
    if (event.seq !== undefined) {
      if (last !== undefined && event.seq <= last) {
        this.callbacks.duplicate(event)
        return
      }
      this.lastSeq.set(event.ifindex, event.seq)
    }
    this.callbacks.event(event)
  }

}

// ---------------------------------------------------------------------------------------------

export interface RtnetlinkSourceOptions {
  /** Only these interface names (empty: all). */
  interfaces: string[]
  receiveBufferBytes?: number
  openSocket?: SocketFactory
  /** How long to wait after the last message for the rest of one RA's notifications. */
  gatherMs?: number
}

interface LinkState {
  ifname?: string
  managed: boolean
  other: boolean
}

interface PendingRa {
  ifindex: number
  router?: string
  options: Buffer[]
  flagsChanged: boolean
}

/**
 * No module, no privilege: RTM_NEWNDUSEROPT (one message per prefix/RDNSS/DNSSL/... option) and
 * RTM_NEWLINK IPv6 flags. One RA's messages are queued together by the kernel; they are gathered
 * for `gatherMs` after the socket goes quiet and delivered as one event. Gap: an RA with none of
 * those options and unchanged M/O flags produces no message at all, so no event.
 */
export class RtnetlinkSource implements RaSource {
  readonly name = 'rtnetlink' as const
  private readonly channel: NetlinkChannel
  private readonly links = new Map<number, LinkState>()
  private readonly pending = new Map<number, PendingRa>()
  private flushTimer: NodeJS.Timeout | undefined
  private readonly resync: Resynchroniser
  private readonly gatherMs: number

  constructor(private readonly options: RtnetlinkSourceOptions, private readonly callbacks: SourceCallbacks) {
    this.gatherMs = options.gatherMs ?? 5
    try {
      this.channel = new NetlinkChannel(
        {
          protocol: NETLINK.NETLINK_ROUTE,
          groups: [RTNETLINK.RTNLGRP_IPV6_IFINFO, RTNETLINK.RTNLGRP_ND_USEROPT],
          receiveBufferBytes: options.receiveBufferBytes,
        },
        {
          message: m => this.onMessage(m),
          wakeupDone: more => { if (!more) { this.scheduleFlush(); this.resync.drained() } },
          // Lost option notifications cannot be asked for again; the flags can: read them afresh.
          overrun: () => this.resync.overrun(),
          malformed: reason => callbacks.malformed(reason),
          error: err => callbacks.error(err),
        },
        options.openSocket,
      )
    } catch (err) {
      throw openError(err, NETLINK.NETLINK_ROUTE)
    }
    this.resync = new Resynchroniser(this.channel, seq => this.readLinks(seq), callbacks)
  }

  get portId(): number { return this.channel.portId }

  /** Reads every interface's current RA flags and reports those set as replayed events. */
  async start(): Promise<void> {
    await this.readLinks(this.channel.allocateSeq())
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.channel.close()
  }
  ref(): void { this.channel.ref() }
  unref(): void { this.channel.unref() }

  private wanted(ifname: string): boolean {
    return this.options.interfaces.length === 0 || this.options.interfaces.includes(ifname)
  }

  private ifname(ifindex: number): string {
    const state = this.links.get(ifindex)
    if (state?.ifname) return state.ifname
    const name = ifnameFromSysfs(ifindex) ?? `if${ifindex}`
    this.links.set(ifindex, { managed: false, other: false, ...state, ifname: name })
    return name
  }

  private async readLinks(seq: number): Promise<void> {
    const replies = await this.channel.request('rtnetlink RTM_GETLINK dump', seq, encodeGetLinkDump(seq), { dump: true })
    for (const reply of replies) {
      if (reply.type !== RTNETLINK.RTM_NEWLINK) continue
      let link
      try { link = decodeLink(reply) } catch (err) { this.callbacks.malformed((err as Error).message); continue }
      if (link.inet6Flags === undefined) continue
      const flags = raFlagsOf(link.inet6Flags)
      const ifname = link.ifname ?? this.ifname(link.ifindex)
      this.links.set(link.ifindex, { ifname, managed: flags.managed, other: flags.other })
      if ((flags.managed || flags.other || flags.raReceived) && this.wanted(ifname)) {
        this.callbacks.event(this.buildEvent({ ifindex: link.ifindex, options: [], flagsChanged: true }, true))
      }
    }
  }

  private onMessage(message: NetlinkMessage): void {
    if (message.seq !== 0) return // a dump reply, handled in resync()
    if (message.type === RTNETLINK.RTM_NEWLINK) {
      const link = decodeLink(message)
      if (link.inet6Flags === undefined) return
      const flags = raFlagsOf(link.inet6Flags)
      const old = this.links.get(link.ifindex)
      this.links.set(link.ifindex, { ifname: link.ifname ?? old?.ifname, managed: flags.managed, other: flags.other })
      // A notification for timers or other fields, or a new interface without RA flags, is no RA.
      const changed = old ? old.managed !== flags.managed || old.other !== flags.other : flags.managed || flags.other
      if (!changed) return
      this.pendingFor(link.ifindex, undefined).flagsChanged = true
      return
    }
    if (message.type === RTNETLINK.RTM_NEWNDUSEROPT) {
      const user = decodeUserOption(message)
      if (user.icmpType !== RTNETLINK.ND_ROUTER_ADVERT) return
      this.pendingFor(user.ifindex, user.router).options.push(user.option)
    }
  }

  /** The RA being gathered on `ifindex`; a different router on the same link starts a new one. */
  private pendingFor(ifindex: number, router: string | undefined): PendingRa {
    let pending = this.pending.get(ifindex)
    if (pending && router !== undefined && pending.router !== undefined && pending.router !== router) {
      this.deliver(pending)
      pending = undefined
    }
    if (!pending) {
      pending = { ifindex, options: [], flagsChanged: false }
      this.pending.set(ifindex, pending)
    }
    if (router !== undefined) pending.router = router
    return pending
  }

  private scheduleFlush(): void {
    if (this.pending.size === 0) return
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      for (const p of [...this.pending.values()]) this.deliver(p)
    }, this.gatherMs)
  }

  private deliver(pending: PendingRa): void {
    this.pending.delete(pending.ifindex)
    if (!this.wanted(this.ifname(pending.ifindex))) return
    this.callbacks.event(this.buildEvent(pending, false))
  }

  private buildEvent(pending: PendingRa, replayed: boolean): RaEvent {
    const state = this.links.get(pending.ifindex)
    const area = Buffer.concat(pending.options)
    const { options, malformed } = decodeNdOptions(area)
    if (malformed) this.callbacks.malformed(`rtnetlink options on ifindex ${pending.ifindex}: ${malformed}`)
    const event: RaEvent = {
      source: 'rtnetlink',
      ifindex: pending.ifindex,
      ifname: this.ifname(pending.ifindex),
      flags: { managed: state?.managed ?? false, other: state?.other ?? false },
      options,
      replayed,
    }
    if (pending.router !== undefined) event.router = pending.router
    return event
  }

}
