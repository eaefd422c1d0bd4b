// RaMonitor: the one API for "the kernel accepted a Router Advertisement". An EventEmitter and an
// async iterator of RaEvent, from the ra6mon module or, without it, from rtnetlink.
//
//   const monitor = new RaMonitor({ interfaces: ['eth0'] })
//   monitor.on('ra', event => ...)          // attach before start(): replayed events come first
//   await monitor.start()
//   for await (const event of monitor) ...  // or iterate
//   await monitor.close()
//
// Events: 'ra' (RaEvent), 'overrun' (info), 'recovered', 'malformed' (reason), 'warning'
// (message), 'error' (Error), 'close'.
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { RA6MON } from './abi.js'
import { MODULE_NOT_LOADED, RaSourceError } from './errors.js'
import type { SocketFactory } from './native.js'
import type { RaEvent, RaSourceName } from './events.js'
import {
  Ra6monSource, RtnetlinkSource, ifindexOf, readRa6monProtocol, type RaSource, type SourceCallbacks,
} from './sources.js'

export type RaSourceChoice = 'auto' | RaSourceName

export interface RaMonitorOptions {
  /** Default 'auto': ra6mon when the module is loaded, else rtnetlink with one warning. */
  source?: RaSourceChoice
  /** Interface names to watch (default: all). */
  interfaces?: string[]
  /** ra6mon's netlink protocol number (default: read from sysfs). */
  protocol?: number
  /** SO_RCVBUF for the socket, e.g. to test overruns. */
  receiveBufferBytes?: number
  /** Where the module's presence is looked up (tests). */
  sysfsModuleDir?: string
  /** The socket (tests replay captured datagrams through a fake one). */
  openSocket?: SocketFactory
  /** Interface name -> index (tests; default: /sys/class/net). */
  ifindexOf?: (ifname: string) => number
}

export interface RaMonitorStats {
  events: number
  replayed: number
  /** Replays of an RA already delivered (after a re-registration), not delivered twice. */
  duplicates: number
  overruns: number
  recoveries: number
  /** Messages or options dropped because they could not be decoded. */
  malformed: number
}

export const RTNETLINK_FALLBACK_WARNING =
  'the ra6mon module is not loaded (no /sys/module/ra6mon): falling back to rtnetlink, which reports ' +
  'only RAs that carry prefix/RDNSS/DNSSL options or change the M/O flags; build and insmod ' +
  'kernel/ra6mon.ko to see every accepted RA'

export class RaMonitor extends EventEmitter implements AsyncIterable<RaEvent> {
  readonly stats: RaMonitorStats = { events: 0, replayed: 0, duplicates: 0, overruns: 0, recoveries: 0, malformed: 0 }
  private src: RaSource | undefined
  private state: 'new' | 'starting' | 'running' | 'closed' = 'new'
  private readonly options: RaMonitorOptions

  constructor(options: RaMonitorOptions = {}) {
    super()
    this.options = options
  }

  /** The source in use, once started. */
  get source(): RaSourceName | undefined { return this.src?.name }

  /** The netlink port id the kernel assigned to this monitor's socket. */
  get portId(): number | undefined { return this.src?.portId }

  get closed(): boolean { return this.state === 'closed' }

  /**
   * Opens the source and, for ra6mon, registers: resolves once the kernel acknowledged, after the
   * replayed events (the state before this monitor started) were emitted.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`RaMonitor.start(): already ${this.state}`)
    this.state = 'starting'
    try {
      this.src = this.openSource()
      await this.src.start()
    } catch (err) {
      // close() during start (e.g. `--count 1` satisfied by a replayed event) is not a failure.
      if (this.closed) return
      this.src?.close()
      this.state = 'closed'
      throw err
    }
    if (this.state === 'starting') this.state = 'running'
  }

  /** Kernel counters (ra6mon only). */
  async kernelStats(): Promise<Record<string, bigint>> {
    if (!(this.src instanceof Ra6monSource)) throw new Error('kernel statistics come from the ra6mon source only')
    return this.src.stats()
  }

  /** Lets the process exit while the monitor is open (and ref() undoes it). */
  unref(): this { this.src?.unref(); return this }
  ref(): this { this.src?.ref(); return this }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.src?.close()
    this.emit('close')
  }

  [Symbol.asyncIterator](): AsyncIterator<RaEvent> {
    const queue: RaEvent[] = []
    let waiting: { resolve(r: IteratorResult<RaEvent>): void; reject(e: Error): void } | undefined
    let failure: Error | undefined
    let done = this.state === 'closed'
    const onRa = (event: RaEvent) => {
      if (waiting) { waiting.resolve({ value: event, done: false }); waiting = undefined } else queue.push(event)
    }
    const onError = (err: Error) => {
      failure = err
      if (waiting) { waiting.reject(err); waiting = undefined }
    }
    const onClose = () => {
      done = true
      if (waiting) { waiting.resolve({ value: undefined, done: true }); waiting = undefined }
    }
    const detach = () => {
      this.off('ra', onRa)
      this.off('error', onError)
      this.off('close', onClose)
    }
    this.on('ra', onRa)
    this.on('error', onError)
    this.on('close', onClose)
    return {
      next: () => {
        const value = queue.shift()
        if (value) return Promise.resolve({ value, done: false })
        if (failure) { detach(); return Promise.reject(failure) }
        if (done) { detach(); return Promise.resolve({ value: undefined, done: true }) }
        return new Promise((resolve, reject) => { waiting = { resolve, reject } })
      },
      return: () => {
        detach()
        return Promise.resolve({ value: undefined, done: true })
      },
    }
  }

  private chooseSource(): RaSourceName {
    const choice = this.options.source ?? 'auto'
    if (choice !== 'auto') return choice
    if (this.options.protocol !== undefined || existsSync(this.options.sysfsModuleDir ?? '/sys/module/ra6mon')) return 'ra6mon'
    this.emit('warning', RTNETLINK_FALLBACK_WARNING)
    return 'rtnetlink'
  }

  private openSource(): RaSource {
    const interfaces = this.options.interfaces ?? []
    // A name that does not exist is a typo far more often than an interface yet to come: say so now.
    const ifindexes = interfaces.map(this.options.ifindexOf ?? ifindexOf)
    const callbacks: SourceCallbacks = {
      event: event => {
        this.stats.events++
        if (event.replayed) this.stats.replayed++
        this.emit('ra', event)
      },
      overrun: () => {
        this.stats.overruns++
        this.emit('overrun', { overruns: this.stats.overruns, source: this.src?.name })
      },
      recovered: () => {
        this.stats.recoveries++
        this.emit('recovered', { overruns: this.stats.overruns })
      },
      malformed: reason => {
        this.stats.malformed++
        this.emit('malformed', reason)
      },
      duplicate: () => { this.stats.duplicates++ },
      error: err => this.fail(err),
    }
    if (this.chooseSource() === 'rtnetlink') {
      return new RtnetlinkSource({ interfaces, receiveBufferBytes: this.options.receiveBufferBytes, openSocket: this.options.openSocket }, callbacks)
    }
    const protocol = this.options.protocol ?? readRa6monProtocol(
      this.options.sysfsModuleDir ? `${this.options.sysfsModuleDir}/parameters/protocol` : RA6MON.PROTOCOL_SYSFS_PATH)
    if (protocol === undefined) {
      throw new RaSourceError(`${MODULE_NOT_LOADED} (${RA6MON.PROTOCOL_SYSFS_PATH} does not exist)`, { code: 'ENOENT', syscall: 'open' })
    }
    return new Ra6monSource({
      protocol, ifindexes, receiveBufferBytes: this.options.receiveBufferBytes, openSocket: this.options.openSocket,
    }, callbacks)
  }

  /** A source error ends the monitor: emitted as 'error' (or thrown to the iterator), then closed. */
  private fail(err: Error): void {
    if (this.state === 'closed') return
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.emitWarning(`RaMonitor closed after an error: ${err.message}`, { code: 'RA6DHCP_RA_MONITOR' })
    void this.close()
  }
}
