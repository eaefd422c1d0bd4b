// The daemon: one client per interface, fed by RA events, driven by the control socket's verbs,
// stopped by signals. Everything outside (the client itself, the RA source, the Router
// Solicitation, link up/down) comes in through small interfaces, so the unit tests run the real
// daemon with recording fakes and `ra6dhcp run` plugs in the real parts (wiring.ts).
import type { Logger } from '../log/logger.js'
import type { ClientControl, RaTrigger, StartSpec } from '../client/api.js'
import type { ClientEvent } from '../client/machine/ports.js'
import type { LinkChange } from '../system/link-watch.js'
import { UsageError } from '../cli/usage-error.js'
import { defaultResolvFragmentPath } from '../system/resolv.js'
import { diffSettings, type DaemonSettings, type InterfaceSettings, type SettingsChange } from './config.js'
import { ControlServer } from './control-server.js'
import type { DownstreamStatus } from './downstream.js'
import { formatClientEvent } from './event-log.js'
import type { ControlRequest, ControlResponse, DaemonStatus, InterfaceOutcome, InterfaceReport, LastRa } from './protocol.js'
import { parseControlArgv, type ControlCommand, type VerbContext } from './verbs.js'

/** One interface's client as the daemon holds it. */
export interface ManagedClient {
  control: ClientControl
  /** Frees what the client holds (its socket); called after stop(). */
  close(): Promise<void>
  /** The /64 of the delegated prefix on the downstream interface (--pd-downstream), if assigned. */
  downstream?(): DownstreamStatus | undefined
}

export interface ClientContext {
  ifname: string
  settings: InterfaceSettings
  daemon: DaemonSettings
  /** What an RA-started operation (and a bare `start`) asks for, IAIDs included. */
  defaultSpec: StartSpec
  onEvent(event: ClientEvent): void
}

export type ClientFactory = (context: ClientContext) => Promise<ManagedClient>

/** What the daemon reads from an RaEvent (src/ra/events.ts). */
export interface RaNotice {
  ifname: string
  flags: { managed: boolean; other: boolean }
  replayed: boolean
  router?: string
  kernelTimeNs?: bigint
}

/** The RA events the daemon needs: a RaMonitor, or a test's emitter. */
export interface RaFeed {
  readonly source: string | undefined
  on(event: 'ra', listener: (event: RaNotice) => void): unknown
  on(event: 'warning', listener: (message: string) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * Link-state changes of the managed interfaces (a LinkWatcher, or a test's emitter). Edges only:
 * 'change' fires when a link went down or came back, never for a repeat of the current state.
 */
export interface LinkFeed {
  on(event: 'change', listener: (change: LinkChange) => void): unknown
  on(event: 'warning', listener: (message: string) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  /** Reads the current state; resolves with each watched interface's. */
  start(): Promise<Map<string, LinkChange>>
  close(): Promise<void>
}

export interface DaemonPorts {
  createClient: ClientFactory
  raFeed: RaFeed
  /** Link-state watch (--link-watch on); without it only the ifdown/ifup verbs tell clients about the link. */
  linkFeed?: LinkFeed
  /** Persisted IAIDs of an interface: `count` of each type, allocated once (IaidStore). */
  iaids(ifname: string, counts: { na: number; pd: number }): Promise<{ na: number[]; pd: number[] }>
  /** Sends a Router Solicitation on the interface (rdisc6). */
  solicitRouter(ifname: string): Promise<void>
  /** Takes the link down or up (`ip link set dev IF down|up`). */
  setLink(ifname: string, up: boolean): Promise<void>
  logger: Logger
  /** Re-resolves the settings from the config file and the original flags (SIGHUP). */
  reloadSettings?(): DaemonSettings
  version?: string
  now?: () => number
}

interface InterfaceEntry {
  ifname: string
  settings: InterfaceSettings
  defaultSpec: StartSpec
  iaids: { na: number[]; pd: number[] }
  client: ManagedClient
  raCount: number
  lastRa?: LastRa
  /** Taken down by the ifdown verb (and not up again by ifup). */
  linkDown: boolean
  /** What the client was last told about the link: ifdown()/ifup() go to it only when this changes. */
  clientLinkUp: boolean
  /** When clientLinkUp last changed (ms since the epoch). */
  linkChangedAt?: number
  /** Link changes seen by the link watch. */
  linkCounters: { down: number; up: number }
  /** Verbs waiting for the link watch to see the link they set. */
  linkWaiters: { up: boolean; resolve(seen: boolean): void }[]
  log: Logger
}

/** How long a running client gets to stop (Release included) before the daemon gives up on it. */
const STOP_TIMEOUT_MS = 60_000
/** How long ifdown waits for the link watch to see the link go down before telling the client itself. */
const IFDOWN_WAIT_MS = 2_000
/**
 * How long ifup waits for the link watch to see the link usable (a NIC negotiates its carrier for
 * a second or more) before answering; the client is told when the carrier comes, however late.
 */
const IFUP_WAIT_MS = 5_000

export class Daemon {
  private settings: DaemonSettings
  private readonly entries = new Map<string, InterfaceEntry>()
  private control: ControlServer | undefined
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  private readonly startedAt: number
  private readonly now: () => number
  private stopping: Promise<void> | undefined
  /** The link watch runs: it alone tells clients about the link; the verbs only set it and wait. */
  private linkWatching = false
  /** Serialises verbs and reloads so two never interleave on one client. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(settings: DaemonSettings, private readonly ports: DaemonPorts) {
    this.settings = settings
    this.now = ports.now ?? Date.now
    this.startedAt = this.now()
  }

  get currentSettings(): DaemonSettings { return this.settings }

  /** Control socket first (so a second daemon fails before touching anything), then clients, then RAs. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`daemon already ${this.state}`)
    this.state = 'starting'
    const log = this.ports.logger
    this.control = new ControlServer(this.settings.controlSocket, request => this.handleRequest(request), err => log.error({ err }, 'control socket error'))
    await this.control.listen()
    try {
      for (const [ifname, settings] of this.settings.interfaces) {
        this.entries.set(ifname, await this.createEntry(ifname, settings))
      }
      // Before the RA feed: a replayed RA on a link that is down must find its client told so.
      await this.startLinkWatch()
      const feed = this.ports.raFeed
      feed.on('ra', event => this.onRa(event))
      feed.on('warning', message => log.warn(message))
      feed.on('error', err => log.error({ err }, `RA source failed: ${err.message}; verbs still work, RAs are no longer seen`))
      await feed.start()
    } catch (err) {
      await this.shutdown('start failed')
      throw err
    }
    this.state = 'running'
    log.info({ interfaces: [...this.entries.keys()], raSource: this.ports.raFeed.source, controlSocket: this.settings.controlSocket }, 'ra6dhcp running')
    for (const entry of this.entries.values()) {
      if (entry.raCount === 0) void this.solicitRouter(entry)
    }
  }

  private async createEntry(ifname: string, settings: InterfaceSettings): Promise<InterfaceEntry> {
    const iaids = await this.ports.iaids(ifname, { na: settings.iaNa, pd: settings.iaPd.count })
    const defaultSpec = defaultSpecOf(settings, iaids)
    const log = this.ports.logger.child({ interface: ifname })
    const client = await this.ports.createClient({
      ifname, settings, daemon: this.settings, defaultSpec, onEvent: event => logClientEvent(log, event),
    })
    return { ifname, settings, defaultSpec, iaids, client, raCount: 0, linkDown: false, clientLinkUp: true, linkCounters: { down: 0, up: 0 }, linkWaiters: [], log }
  }

  private async startLinkWatch(): Promise<void> {
    const feed = this.ports.linkFeed
    if (!feed) return
    const log = this.ports.logger
    feed.on('change', change => this.onLinkChange(change))
    feed.on('warning', message => log.warn(message))
    feed.on('error', err => {
      this.linkWatching = false
      log.error({ err }, `link watch failed: ${err.message}; link changes are no longer seen (ctl ifdown/ifup still work)`)
    })
    let states: Map<string, LinkChange>
    try {
      states = await feed.start()
    } catch (err) {
      log.error({ err }, `link watch could not start: ${(err as Error).message}; link changes will not be seen (ctl ifdown/ifup still work; --link-watch off silences this)`)
      await feed.close().catch(() => undefined)
      return
    }
    this.linkWatching = true
    for (const entry of this.entries.values()) {
      const state = states.get(entry.ifname)
      if (!state || state.up) continue
      entry.log.info({ link: 'down', operstate: state.operstate, flags: state.flags }, `link is down at start (operstate ${state.operstate}): the client waits for it`)
      this.setClientLink(entry, false)
    }
  }

  /** The link watch saw a link go down or come back: one log line, one count, and the client is told. */
  private onLinkChange(change: LinkChange): void {
    const entry = this.entries.get(change.ifname)
    if (!entry || !this.linkWatching || this.state === 'stopping' || this.state === 'stopped') return
    if (change.up) entry.linkCounters.up++
    else entry.linkCounters.down++
    const fields = { link: change.up ? 'up' : 'down', operstate: change.operstate, flags: change.flags, collapsed: change.collapsed || undefined }
    const flap = change.collapsed ? ' (a flap: down and up again within the settling time)' : ''
    entry.log.info(fields, change.up
      ? `link up${flap} (operstate ${change.operstate}): the client checks its lease (RFC 8415 section 18.2.12)`
      : `link down${flap} (operstate ${change.operstate}, flags ${change.flags.join(',') || 'none'})`)
    this.setClientLink(entry, change.up)
  }

  /** Tells the client about its link only on a change, so a verb and the watch never both do (no second Confirm). */
  private setClientLink(entry: InterfaceEntry, up: boolean): void {
    if (this.recordClientLink(entry, up)) {
      if (up) entry.client.control.ifup()
      else entry.client.control.ifdown()
    }
    const waiting = entry.linkWaiters
    entry.linkWaiters = waiting.filter(w => w.up !== up)
    for (const w of waiting) if (w.up === up) w.resolve(true)
  }

  /** Records what the client now knows of its link, and when that changed; true if it did. */
  private recordClientLink(entry: InterfaceEntry, up: boolean): boolean {
    if (entry.clientLinkUp === up) return false
    entry.clientLinkUp = up
    entry.linkChangedAt = this.now()
    return true
  }

  /** Resolves true once the client has been told `up` (at once if it already was), false after `ms`. */
  private waitForClientLink(entry: InterfaceEntry, up: boolean, ms: number): Promise<boolean> {
    if (entry.clientLinkUp === up) return Promise.resolve(true)
    return new Promise(resolve => {
      const waiter = {
        up,
        resolve: (seen: boolean) => { clearTimeout(timer); resolve(seen) },
      }
      const timer = setTimeout(() => {
        entry.linkWaiters = entry.linkWaiters.filter(w => w !== waiter)
        resolve(false)
      }, ms)
      entry.linkWaiters.push(waiter)
    })
  }

  /**
   * The ifdown/ifup verbs set the link with `ip link set`. With the link watch running the client
   * hears of it from the watch only (the verb waits for that), so the verb and the watch give one
   * ifdown/ifup, and ifup's Confirm waits for the carrier. Without the watch the verb tells it.
   */
  private async linkVerb(entry: InterfaceEntry, up: boolean): Promise<void> {
    await this.ports.setLink(entry.ifname, up)
    entry.linkDown = !up
    if (!this.linkWatching) {
      if (up) entry.client.control.ifup()
      else entry.client.control.ifdown()
      this.recordClientLink(entry, up)
      return
    }
    if (up) {
      if (!await this.waitForClientLink(entry, true, IFUP_WAIT_MS)) {
        entry.log.warn(`ifup: ${entry.ifname} is up but has no usable link (no carrier) after ${IFUP_WAIT_MS / 1000} s: the client checks its lease when the link comes`)
      }
    } else if (!await this.waitForClientLink(entry, false, IFDOWN_WAIT_MS)) {
      entry.log.warn(`ifdown: the link watch did not see ${entry.ifname} go down within ${IFDOWN_WAIT_MS / 1000} s: telling the client directly`)
      this.setClientLink(entry, false)
    }
  }

  private async solicitRouter(entry: InterfaceEntry): Promise<void> {
    entry.log.info('no RA seen for this interface yet: sending a Router Solicitation')
    try {
      await this.ports.solicitRouter(entry.ifname)
    } catch (err) {
      entry.log.warn({ err }, `Router Solicitation failed: ${(err as Error).message}; waiting for the router's next periodic RA`)
    }
  }

  private onRa(event: RaNotice): void {
    const entry = this.entries.get(event.ifname)
    if (!entry || this.state === 'stopping' || this.state === 'stopped') return
    entry.raCount++
    const lastRa: LastRa = { at: new Date(this.now()).toISOString(), managed: event.flags.managed, other: event.flags.other, replayed: event.replayed }
    if (event.router !== undefined) lastRa.router = event.router
    entry.lastRa = lastRa
    // Both CLOCK_MONOTONIC in ns (libuv's hrtime is too), so a reader can tell the notification's latency.
    entry.log.info({
      M: lastRa.managed, O: lastRa.other, router: event.router, replayed: event.replayed || undefined,
      kernelTimeNs: event.kernelTimeNs?.toString(), receivedMonotonicNs: process.hrtime.bigint().toString(),
    }, 'RA accepted by the kernel')
    const trigger: RaTrigger = { managed: event.flags.managed, other: event.flags.other, replayed: event.replayed }
    if (event.kernelTimeNs !== undefined) trigger.receivedAtNs = event.kernelTimeNs
    entry.client.control.onRa(trigger)
  }

  private verbContext(): VerbContext {
    return {
      interfaces: [...this.entries.keys()],
      defaultSpec: ifname => this.entries.get(ifname)!.defaultSpec,
      persistedIaids: ifname => this.entries.get(ifname)!.iaids,
    }
  }

  /** Answers one control request; verbs run one at a time. */
  handleRequest(request: ControlRequest): Promise<ControlResponse> {
    const run = this.queue.then(() => this.apply(request))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async apply(request: ControlRequest): Promise<ControlResponse> {
    if (this.state !== 'running') return { ok: false, error: `the daemon is ${this.state}: try again ${this.state === 'starting' ? 'in a moment' : 'after starting it with `ra6dhcp run IF`'}` }
    let command: ControlCommand
    try {
      command = parseControlArgv(request.argv, this.verbContext(), request.interface)
    } catch (err) {
      if (err instanceof UsageError) return { ok: false, error: err.message }
      throw err
    }
    if (command.verb === 'status') return { ok: true, verb: 'status', status: this.status(command.interfaces) }
    this.ports.logger.info({ verb: request.argv.join(' '), interfaces: command.interfaces }, 'control verb')
    const results: InterfaceOutcome[] = []
    for (const ifname of command.interfaces) {
      const entry = this.entries.get(ifname)!
      const control = entry.client.control
      const outcome: InterfaceOutcome = { interface: ifname, state: '' }
      switch (command.verb) {
        case 'start': {
          const spec = command.start!.get(ifname)!
          outcome.spec = spec
          control.start(spec)
          break
        }
        case 'stop': await control.stop(); break
        case 'restart': await control.restart(); break
        case 'release': await control.release(); break
        case 'ifdown': await this.linkVerb(entry, false); break
        case 'ifup': await this.linkVerb(entry, true); break
      }
      outcome.state = control.status().state
      results.push(outcome)
    }
    return { ok: true, verb: command.verb, results }
  }

  status(interfaces: readonly string[] = [...this.entries.keys()]): DaemonStatus {
    const now = this.now()
    const reports: InterfaceReport[] = interfaces.map(ifname => {
      const entry = this.entries.get(ifname)!
      const report: InterfaceReport = { ...entry.client.control.status(), onRa: entry.settings.onRa, raCount: entry.raCount, link: entry.clientLinkUp ? 'up' : 'down' }
      if (entry.linkChangedAt !== undefined) report.linkChangedAt = new Date(entry.linkChangedAt).toISOString()
      if (this.ports.linkFeed) report.counters = { ...report.counters, 'link.down': entry.linkCounters.down, 'link.up': entry.linkCounters.up }
      if (entry.lastRa) report.lastRa = entry.lastRa
      if (entry.linkDown) report.linkDown = true
      const downstream = entry.client.downstream?.()
      if (downstream) report.downstream = downstream
      return report
    })
    const status: DaemonStatus = {
      pid: process.pid,
      version: this.ports.version ?? 'unknown',
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.floor((now - this.startedAt) / 1000),
      controlSocket: this.settings.controlSocket,
      stateDir: this.settings.stateDir,
      interfaces: reports,
    }
    if (this.ports.raFeed.source !== undefined) status.raSource = this.ports.raFeed.source
    if (this.settings.configFile !== undefined) status.configFile = this.settings.configFile
    return status
  }

  /**
   * SIGHUP: re-reads the config. The log level applies at once; an interface whose client
   * settings changed gets a new client (stopped without Release, so the lease stays on disk and
   * the new client Confirms it when the last RA is replayed to it). Daemon-wide settings that
   * only a restart can change are reported, and kept as they were.
   */
  reload(): Promise<SettingsChange> {
    const run = this.queue.then(() => this.applyReload())
    this.queue = run.catch(() => undefined)
    return run
  }

  private async applyReload(): Promise<SettingsChange> {
    if (!this.ports.reloadSettings) throw new Error('this daemon has no config to reload')
    const log = this.ports.logger
    const current = this.settings
    const next = this.ports.reloadSettings()
    // A DNS fragment that only moved because state-dir did stays where it is, like state-dir.
    for (const [ifname, settings] of next.interfaces) {
      const before = current.interfaces.get(ifname)
      if (before && settings.resolvConf === defaultResolvFragmentPath(next.stateDir, ifname)) {
        next.interfaces.set(ifname, { ...settings, resolvConf: before.resolvConf })
      }
    }
    const change = diffSettings(current, next)
    if (next.logLevel !== current.logLevel) log.level = next.logLevel
    const merged: DaemonSettings = {
      ...next,
      raSource: current.raSource, stateDir: current.stateDir, controlSocket: current.controlSocket, logFormat: current.logFormat, duid: current.duid,
      linkWatch: current.linkWatch, linkDebounceMs: current.linkDebounceMs,
      interfaces: new Map(current.interfaces),
    }
    if (current.configFile !== undefined) merged.configFile = current.configFile
    for (const [ifname, entry] of this.entries) {
      const updated = next.interfaces.get(ifname)
      if (!updated || JSON.stringify(updated) === JSON.stringify(entry.settings)) continue
      merged.interfaces.set(ifname, updated)
      await this.replaceClient(entry, updated, merged)
    }
    this.settings = merged
    log.info({ applied: change.applied, needsRestart: change.needsRestart }, change.applied.length + change.needsRestart.length === 0
      ? 'config reloaded: nothing changed'
      : 'config reloaded')
    if (change.needsRestart.length > 0) log.warn({ needsRestart: change.needsRestart }, 'these changes apply only after a daemon restart (systemctl restart)')
    return change
  }


  private async replaceClient(entry: InterfaceEntry, settings: InterfaceSettings, daemon: DaemonSettings): Promise<void> {
    entry.log.info('client settings changed: restarting this interface\'s client (lease kept)')
    await entry.client.control.stop()
    await entry.client.close()
    const iaids = await this.ports.iaids(entry.ifname, { na: settings.iaNa, pd: settings.iaPd.count })
    const defaultSpec = defaultSpecOf(settings, iaids)
    entry.client = await this.ports.createClient({ ifname: entry.ifname, settings, daemon, defaultSpec, onEvent: event => logClientEvent(entry.log, event) })
    entry.settings = settings
    entry.iaids = iaids
    entry.defaultSpec = defaultSpec
    // The new client starts with the link up; tell it if it is not.
    if (!entry.clientLinkUp) entry.client.control.ifdown()
    if (entry.lastRa) entry.client.control.onRa({ managed: entry.lastRa.managed, other: entry.lastRa.other, replayed: true })
  }

  /** Stops every client (with Release where configured), the RA feed and the control socket. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason)
    return this.stopping
  }

  private async shutdown(reason: string): Promise<void> {
    this.state = 'stopping'
    const log = this.ports.logger
    log.info({ reason }, 'stopping')
    await this.ports.raFeed.close().catch(err => log.warn({ err }, 'closing the RA source failed'))
    this.linkWatching = false
    await this.ports.linkFeed?.close().catch(err => log.warn({ err }, 'closing the link watch failed'))
    await Promise.all([...this.entries.values()].map(async entry => {
      try {
        await withTimeout(entry.client.control.stop(), STOP_TIMEOUT_MS, `${entry.ifname}: stop did not finish within ${STOP_TIMEOUT_MS / 1000} s`)
      } catch (err) {
        entry.log.error({ err }, `stopping the client failed: ${(err as Error).message}`)
      }
      await entry.client.close().catch(err => entry.log.warn({ err }, 'closing the client failed'))
    }))
    await this.control?.close()
    this.state = 'stopped'
    log.info('stopped')
  }
}

export function defaultSpecOf(settings: InterfaceSettings, iaids: { na: number[]; pd: number[] }): StartSpec {
  if (settings.stateless) return { mode: 'stateless', iaNa: [], iaPd: [], dns: true }
  return {
    mode: 'stateful',
    iaNa: iaids.na.slice(0, settings.iaNa),
    iaPd: iaids.pd.slice(0, settings.iaPd.count).map(iaid =>
      settings.iaPd.prefixLength === undefined ? { iaid } : { iaid, prefixLength: settings.iaPd.prefixLength }),
    dns: true,
  }
}

function logClientEvent(log: Logger, event: ClientEvent): void {
  const { level, message, fields } = formatClientEvent(event)
  log[level](fields, message)
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
