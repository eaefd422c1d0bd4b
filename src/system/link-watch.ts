// Link-change detection for RFC 8415 section 18.2.12: the daemon learns that a managed interface
// lost its link (carrier gone, administratively down, deleted) and got it back, so the client can
// check its lease (Confirm, or Rebind with delegated prefixes). Link state comes from rtnetlink
// (RTNLGRP_LINK: RTM_NEWLINK/RTM_DELLINK, ifi_flags IFF_UP + IFF_RUNNING), read once with an
// RTM_GETLINK dump at start, on the project's own netlink socket (no `ip monitor`).
//
// Only edges are reported. Observations are settled per interface after a quiet window: with
// `debounceMs` 0 the window is the batch of messages the kernel queued together (one wake-up),
// otherwise `debounceMs` after the last change. A window ending where it began but with a down
// inside it (a flap, or a carrier-down count that moved) is reported as one down and one up, so a
// flap gives one lease check, never two and never none.
import { EventEmitter } from 'node:events'
import { NETLINK, RTNETLINK } from '../ra/abi.js'
import { NetlinkChannel } from '../ra/channel.js'
import { RaSourceError } from '../ra/errors.js'
import { isSystemError, type SocketFactory } from '../ra/native.js'
import type { NetlinkMessage } from '../ra/netlink.js'
import {
  LINK, decodeLinkState, encodeGetLinkStateDump, linkFlagNames, linkIsUp, operstateName, type LinkStateInfo,
} from '../ra/rtnetlink-protocol.js'

/** One reading of an interface's link. */
export interface LinkObservation {
  up: boolean
  /** IFLA_CARRIER_DOWN_COUNT when the kernel gives it: a change means the carrier went down in between. */
  carrierDownCount?: number
}

/** Timers, injectable so the edge detection runs in virtual time. */
export interface LinkTimers {
  set(callback: () => void, ms: number): unknown
  clear(handle: unknown): void
}

const realTimers: LinkTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: handle => clearTimeout(handle as NodeJS.Timeout),
}

interface EdgeRecord {
  /** The state last reported (or found at start). */
  reported: boolean
  /** The state last observed. */
  current: boolean
  /** A down was observed since the window opened. */
  sawDown: boolean
  carrierDownCount?: number
  /** The window is open (a change is waiting to be settled). */
  pending: boolean
  timer?: unknown
}

/**
 * Per-interface edge detection. `emit(ifname, up, collapsed)` is called once per reported edge;
 * `collapsed` marks the down and up of a flap that came and went inside one window.
 */
export class LinkEdgeDetector {
  private readonly records = new Map<string, EdgeRecord>()
  private readonly timers: LinkTimers

  constructor(
    private readonly debounceMs: number,
    private readonly emit: (ifname: string, up: boolean, collapsed: boolean) => void,
    timers: LinkTimers = realTimers,
  ) {
    if (!(Number.isFinite(debounceMs) && debounceMs >= 0)) throw new RangeError(`debounceMs must be >= 0, got ${debounceMs}`)
    this.timers = timers
  }

  /** The state found at start: known without an edge. */
  setInitial(ifname: string, observation: LinkObservation): void {
    this.cancel(ifname)
    const record: EdgeRecord = { reported: observation.up, current: observation.up, sawDown: false, pending: false }
    if (observation.carrierDownCount !== undefined) record.carrierDownCount = observation.carrierDownCount
    this.records.set(ifname, record)
  }

  /** The state last reported; undefined for an interface not watched. */
  reported(ifname: string): boolean | undefined {
    return this.records.get(ifname)?.reported
  }

  /** A kernel message about `ifname`. Repeats of the current state are ignored. */
  observe(ifname: string, observation: LinkObservation): void {
    const record = this.records.get(ifname)
    if (!record) return
    let changed = false
    if (observation.carrierDownCount !== undefined) {
      if (record.carrierDownCount !== undefined && observation.carrierDownCount !== record.carrierDownCount) {
        record.sawDown = true
        changed = true
      }
      record.carrierDownCount = observation.carrierDownCount
    }
    if (observation.up !== record.current) {
      record.current = observation.up
      if (!observation.up) record.sawDown = true
      changed = true
    }
    if (!changed) return
    record.pending = true
    if (this.debounceMs > 0) {
      if (record.timer !== undefined) this.timers.clear(record.timer)
      record.timer = this.timers.set(() => this.settle(ifname), this.debounceMs)
    }
  }

  /** The kernel's batch is over: without a debounce, every open window settles now. */
  batchEnd(): void {
    if (this.debounceMs > 0) return
    for (const [ifname, record] of this.records) if (record.pending) this.settle(ifname)
  }

  close(): void {
    for (const ifname of this.records.keys()) this.cancel(ifname)
  }

  private cancel(ifname: string): void {
    const record = this.records.get(ifname)
    if (record?.timer !== undefined) this.timers.clear(record.timer)
    if (record) { record.timer = undefined; record.pending = false }
  }

  private settle(ifname: string): void {
    const record = this.records.get(ifname)
    if (!record) return
    record.timer = undefined
    record.pending = false
    const { reported, current, sawDown } = record
    record.sawDown = false
    record.reported = current
    if (reported !== current) {
      this.emit(ifname, current, false)
    } else if (current && sawDown) {
      // Up before and after, down in between: the link did go away.
      this.emit(ifname, false, true)
      this.emit(ifname, true, true)
    }
    // Down before and after: a brief up in between changes nothing for the client.
  }
}

// ---------------------------------------------------------------------------------------------

/** A reported link change, with what the kernel said last, for the log. */
export interface LinkChange {
  ifname: string
  up: boolean
  /** Part of a down/up pair reported for a flap inside one settling window. */
  collapsed: boolean
  /** RFC 2863 operstate name (UP, LOWERLAYERDOWN, DOWN, DORMANT, ...), 'none' if not given, 'deleted' if the interface went away. */
  operstate: string
  /** IFF_UP, LOWER_UP, RUNNING, DORMANT as set. */
  flags: string[]
}

export interface LinkWatcherOptions {
  /** Interface names to watch. */
  interfaces: string[]
  /** 0: settle at the end of each batch of kernel messages; else milliseconds of quiet. */
  debounceMs: number
  receiveBufferBytes?: number
  openSocket?: SocketFactory
  timers?: LinkTimers
}

export interface LinkWatcherCounters {
  /** Link messages decoded. */
  messages: number
  /** Messages about a bridge port (AF_BRIDGE) or another family: not the link itself. */
  otherFamily: number
  malformed: number
  overruns: number
}

/**
 * Watches the link state of some interfaces. Events: 'change' (LinkChange), 'warning' (string),
 * 'error' (Error: the watch has stopped working).
 */
export class LinkWatcher extends EventEmitter {
  readonly counters: LinkWatcherCounters = { messages: 0, otherFamily: 0, malformed: 0, overruns: 0 }
  private channel: NetlinkChannel | undefined
  private readonly detector: LinkEdgeDetector
  private readonly watched: Set<string>
  /** ifindex -> name, learnt from messages (RTM_DELLINK carries the name too, but be safe). */
  private readonly names = new Map<number, string>()
  /** The last message per watched interface, for the log. */
  private readonly last = new Map<string, LinkStateInfo>()
  /** Observations before the start dump has finished: the initial state, not edges. */
  private initial: Map<string, LinkObservation> | undefined = new Map()
  private resync: { needed: boolean; seq: number | undefined } = { needed: false, seq: undefined }

  constructor(private readonly options: LinkWatcherOptions) {
    super()
    this.watched = new Set(options.interfaces)
    this.detector = new LinkEdgeDetector(options.debounceMs, (ifname, up, collapsed) => this.report(ifname, up, collapsed), options.timers)
  }

  /** Opens the socket (RTNLGRP_LINK), reads every link once, and resolves with the watched ones' state. */
  async start(): Promise<Map<string, LinkChange>> {
    if (this.channel) throw new Error('link watch already started')
    try {
      this.channel = new NetlinkChannel(
        { protocol: NETLINK.NETLINK_ROUTE, groups: [LINK.RTNLGRP_LINK], receiveBufferBytes: this.options.receiveBufferBytes },
        {
          message: m => this.onMessage(m),
          wakeupDone: more => { if (!more) this.onDrained() },
          overrun: () => this.onOverrun(),
          malformed: reason => this.onMalformed(reason),
          error: err => this.emit('error', err),
        },
        this.options.openSocket,
      )
    } catch (err) {
      throw isSystemError(err) ? new RaSourceError(`link watch: ${err.message}`, { errno: err.errno, code: err.code, syscall: err.syscall, cause: err }) : err
    }
    const channel = this.channel
    await this.dump(channel.allocateSeq())
    const initial = this.initial ?? new Map<string, LinkObservation>()
    this.initial = undefined
    const states = new Map<string, LinkChange>()
    for (const ifname of this.watched) {
      // Not in the dump: no such interface (yet), so no link.
      const observation = initial.get(ifname) ?? { up: false }
      this.detector.setInitial(ifname, observation)
      states.set(ifname, this.describe(ifname, observation.up, false))
    }
    return states
  }

  /** The link state last reported for `ifname` (true: up), or undefined when it is not watched or not started. */
  linkUp(ifname: string): boolean | undefined {
    return this.detector.reported(ifname)
  }

  async close(): Promise<void> {
    this.detector.close()
    this.channel?.close()
  }

  private dump(seq: number): Promise<NetlinkMessage[]> {
    // Every reply also reaches onMessage, in order with the events: they are observations too.
    return this.channel!.request('rtnetlink RTM_GETLINK dump (link state)', seq, encodeGetLinkStateDump(seq), { dump: true })
  }

  private onMessage(message: NetlinkMessage): void {
    if (message.type !== RTNETLINK.RTM_NEWLINK && message.type !== LINK.RTM_DELLINK) return
    const info = decodeLinkState(message) // a MalformedMessageError is counted by the channel's malformed handler
    this.counters.messages++
    if (info.family !== LINK.AF_UNSPEC) {
      // AF_BRIDGE messages on RTNLGRP_LINK are about bridge-port membership: an RTM_DELLINK of
      // that family means "left the bridge", not "gone".
      this.counters.otherFamily++
      return
    }
    const ifname = info.ifname ?? this.names.get(info.ifindex)
    if (info.deleted) this.names.delete(info.ifindex)
    else if (info.ifname !== undefined) this.names.set(info.ifindex, info.ifname)
    if (ifname === undefined || !this.watched.has(ifname)) return
    this.last.set(ifname, info)
    const observation: LinkObservation = { up: linkIsUp(info) }
    if (info.carrierDownCount !== undefined) observation.carrierDownCount = info.carrierDownCount
    if (this.initial) this.initial.set(ifname, observation)
    else this.detector.observe(ifname, observation)
  }

  private onDrained(): void {
    this.detector.batchEnd()
    if (this.resync.needed && this.resync.seq === undefined && this.channel && !this.channel.closed) {
      // After ENOBUFS: read every link again. The replies are observations; a flap that was lost
      // still shows in the carrier-down count.
      this.resync.needed = false
      const seq = this.channel.allocateSeq()
      this.resync.seq = seq
      this.dump(seq).then(
        () => { if (this.resync.seq === seq) this.resync.seq = undefined },
        (err: Error) => {
          if (this.resync.seq !== seq) return // cancelled by a newer overrun
          this.resync.seq = undefined
          if (this.channel && !this.channel.closed) this.emit('error', err)
        },
      )
    }
  }

  private onOverrun(): void {
    this.counters.overruns++
    this.resync.needed = true
    if (this.resync.seq !== undefined) {
      const seq = this.resync.seq
      this.resync.seq = undefined
      this.channel?.cancel(seq)
    }
    this.emit('warning', 'link watch: the kernel dropped link messages (ENOBUFS); reading every link again')
  }

  private onMalformed(reason: string): void {
    this.counters.malformed++
    this.emit('warning', `link watch: malformed rtnetlink message dropped: ${reason}`)
  }

  private describe(ifname: string, up: boolean, collapsed: boolean): LinkChange {
    const info = this.last.get(ifname)
    return {
      ifname, up, collapsed,
      operstate: info === undefined ? 'none' : info.deleted ? 'deleted' : operstateName(info.operstate),
      flags: info === undefined || info.deleted ? [] : linkFlagNames(info.flags),
    }
  }

  private report(ifname: string, up: boolean, collapsed: boolean): void {
    this.emit('change', this.describe(ifname, up, collapsed))
  }
}
