// Recording fakes of the daemon's ports, shared by the control-socket test and the spawned-daemon
// fixture. They stand in for the machine, RaMonitor, rdisc6 and `ip link`; the daemon, its control
// socket and its signal handling under test are the real ones.
import { EventEmitter } from 'node:events'
import type { ClientControl, ClientState, ClientStatus, RaTrigger, StartSpec } from '../../../src/client/api.js'
import type { ClientContext, DaemonPorts, ManagedClient, RaFeed, RaNotice } from '../../../src/daemon/daemon.js'
import { createLogger, type Logger } from '../../../src/log/logger.js'

export class FakeClient implements ClientControl {
  readonly calls: string[] = []
  state: ClientState = 'idle'
  closed = false
  /** When set, stop() waits for this promise (to test a slow Release). */
  stopGate: Promise<void> | undefined

  constructor(readonly interfaceName: string, readonly context: ClientContext, private readonly onCall: (call: string) => void = () => {}) {
    const push = this.calls.push.bind(this.calls)
    this.calls.push = (...items: string[]) => { items.forEach(item => this.onCall(`${interfaceName}: ${item}`)); return push(...items) }
  }

  onRa(ra: RaTrigger): void { this.calls.push(`onRa M=${ra.managed ? 1 : 0} O=${ra.other ? 1 : 0}${ra.replayed ? ' replayed' : ''}`) }
  start(spec: StartSpec): void {
    this.calls.push(`start ${JSON.stringify(spec)}`)
    this.state = spec.mode === 'stateful' ? 'soliciting' : 'information-requesting'
  }
  async stop(): Promise<void> {
    this.calls.push(this.context.settings.releaseOnStop ? 'stop (release first)' : 'stop')
    await this.stopGate
    this.state = 'stopped'
  }
  async restart(): Promise<void> { this.calls.push('restart'); this.state = 'soliciting' }
  async release(): Promise<void> { this.calls.push('release'); this.state = 'idle' }
  ifdown(): void { this.calls.push('ifdown') }
  ifup(): void { this.calls.push('ifup') }
  status(): ClientStatus {
    return {
      interface: this.interfaceName, state: this.state, profile: this.context.settings.profile,
      leases: this.state === 'soliciting' ? [] : [{
        kind: 'ia-na', iaid: 1, t1: 100, t2: 160,
        entries: [{ value: '2001:db8::10', preferredLifetime: 200, validLifetime: 300, preferredLeft: 150, validLeft: 250 }],
      }],
      dnsServers: ['2001:db8::53'], domainSearch: ['example.test'], counters: { 'sent.Solicit': 1, 'dropped.bad-xid': 0 },
    }
  }
}

export class FakeRaFeed extends EventEmitter implements RaFeed {
  source: string | undefined
  closed = false
  /** RAs the "kernel" replays during start(), as ra6mon does. */
  constructor(private readonly replay: RaNotice[] = []) { super() }
  async start(): Promise<void> {
    this.source = 'ra6mon'
    for (const ra of this.replay) this.emit('ra', ra)
  }
  async close(): Promise<void> { this.closed = true }
}

export interface FakePorts extends DaemonPorts {
  clients: FakeClient[]
  solicited: string[]
  links: string[]
  logLines: Record<string, unknown>[]
  raFeed: FakeRaFeed
}

export function fakePorts(options: { replay?: RaNotice[]; logger?: Logger; onCall?: (call: string) => void; stopGate?: Promise<void> } = {}): FakePorts {
  const logLines: Record<string, unknown>[] = []
  const logger = options.logger ?? createLogger({ format: 'json', level: 'debug', destination: { write: line => logLines.push(JSON.parse(line) as Record<string, unknown>) } })
  const ports: FakePorts = {
    clients: [],
    solicited: [],
    links: [],
    logLines,
    raFeed: new FakeRaFeed(options.replay),
    async createClient(context): Promise<ManagedClient> {
      const client = new FakeClient(context.ifname, context, options.onCall)
      client.stopGate = options.stopGate
      ports.clients.push(client)
      return { control: client, close: async () => { client.closed = true } }
    },
    async iaids(_ifname, counts) {
      return { na: Array.from({ length: counts.na }, (_, i) => 100 + i), pd: Array.from({ length: counts.pd }, (_, i) => 200 + i) }
    },
    async solicitRouter(ifname) { ports.solicited.push(ifname) },
    async setLink(ifname, up) { ports.links.push(`${ifname} ${up ? 'up' : 'down'}`) },
    logger,
    version: '0.0.0-test',
  }
  return ports
}
