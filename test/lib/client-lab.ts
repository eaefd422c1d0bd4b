// One client namespace running the real `ra6dhcp run` daemon against real radvd and a real DHCPv6
// server (Kea or dnsmasq) in a router namespace, with a packet capture on the client's link.
// Everything the daemon writes (state dir, control socket, resolv.conf fragment, hook output)
// lives in lab.dir; everything is started through NetnsLab, so its cleanup ends it by PID.
import { spawnSync, execFile } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import type { InterfaceReport } from '../../src/daemon/protocol.js'
import { NetnsLab, type Daemon, type Namespace } from './netns.js'
import {
  buildRouterLab, readLog, signalAndWait, startCapture, startDnsmasq, startKea, startRadvd, stopKea, waitFor,
  type Capture, type DnsmasqOptions, type DnsmasqServer, type KeaOptions, type KeaServer, type RadvdOptions, type RouterLab,
} from './servers.js'

const execFileAsync = promisify(execFile)

export const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

/** What every client-lab test needs on the machine. */
export const CLIENT_LAB_NEEDS = {
  root: true,
  commands: ['ip', 'radvd', 'kea-dhcp6', 'dnsmasq', 'dumpcap', 'tshark', 'rdisc6'],
  files: [cli],
}

// ---------------------------------------------------------------------------------------------
// Captured DHCPv6 packets, decoded by tshark (an independent decoder, not ours)

export const MessageType = {
  Solicit: 1, Advertise: 2, Request: 3, Confirm: 4, Renew: 5, Rebind: 6, Reply: 7, Release: 8, Decline: 9,
  Reconfigure: 10, InformationRequest: 11,
} as const

export interface CapturedPacket {
  /** Capture time, seconds since the epoch (microsecond resolution). */
  time: number
  src: string
  dst: string
  /** From the client (source port 546) or to it. */
  fromClient: boolean
  msgType: number
  xid: number
  /** Top-level option codes, in order. */
  optionCodes: number[]
  /** Client Identifier (option 1) as hex, if present. */
  clientId?: string
  iaAddresses: { address: string; preferred: number; valid: number }[]
  iaPrefixes: { prefix: string; preferred: number; valid: number }[]
  t1: number[]
  t2: number[]
  /** Status codes anywhere in the message (top level and inside IAs). */
  statusCodes: number[]
  /** Option Request option (6): the option codes asked for. */
  oro: number[]
}

const FIELDS = [
  'frame.time_epoch', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'dhcpv6.msgtype', 'dhcpv6.xid', 'udp.payload',
  'dhcpv6.iaaddr.ip', 'dhcpv6.iaaddr.pref_lifetime', 'dhcpv6.iaaddr.valid_lifetime',
  'dhcpv6.iaprefix.pref_addr', 'dhcpv6.iaprefix.pref_len', 'dhcpv6.iaprefix.pref_lifetime', 'dhcpv6.iaprefix.valid_lifetime',
  'dhcpv6.iaid.t1', 'dhcpv6.iaid.t2', 'dhcpv6.status_code',
] as const

/** Top-level DHCPv6 options of a client/server message: [code, value] pairs. */
function topLevelOptions(payload: Buffer): Array<[number, Buffer]> {
  const options: Array<[number, Buffer]> = []
  for (let at = 4; at + 4 <= payload.length;) {
    const code = payload.readUInt16BE(at)
    const length = payload.readUInt16BE(at + 2)
    options.push([code, payload.subarray(at + 4, at + 4 + length)])
    at += 4 + length
  }
  return options
}

/**
 * Reads the capture file (also while dumpcap still writes it: a record cut short at the end is
 * left out) and returns its DHCPv6 client/server messages in order.
 */
export async function readPackets(file: string): Promise<CapturedPacket[]> {
  if (!existsSync(file)) return []
  const args = ['-n', '-r', file, '-Y', 'dhcpv6', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,']
  for (const f of FIELDS) args.push('-e', f)
  let stdout: string
  try {
    stdout = String((await execFileAsync('tshark', args, { maxBuffer: 64 << 20 })).stdout)
  } catch (err) {
    // "appears to have been cut short in the middle of a packet": the lines before it are good.
    const e = err as { stdout?: string; stderr?: string; message: string }
    if (!/cut short|truncated/i.test(String(e.stderr))) throw new Error(`tshark cannot read ${file}: ${e.stderr ?? e.message}`)
    stdout = String(e.stdout ?? '')
  }
  const packets: CapturedPacket[] = []
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue
    const cells = line.split('\t')
    const col = (name: (typeof FIELDS)[number]) => cells[FIELDS.indexOf(name)] ?? ''
    const list = (name: (typeof FIELDS)[number]) => col(name) === '' ? [] : col(name).split(',')
    const nums = (name: (typeof FIELDS)[number]) => list(name).map(Number)
    const payload = Buffer.from(col('udp.payload').replace(/:/g, ''), 'hex')
    const options = topLevelOptions(payload)
    const clientIdOption = options.find(([code]) => code === 1)
    const oroOption = options.find(([code]) => code === 6)?.[1]
    const oro: number[] = []
    for (let i = 0; oroOption && i + 1 < oroOption.length; i += 2) oro.push(oroOption.readUInt16BE(i))
    const addresses = list('dhcpv6.iaaddr.ip')
    const prefixes = list('dhcpv6.iaprefix.pref_addr')
    const packet: CapturedPacket = {
      time: Number(col('frame.time_epoch')),
      src: col('ipv6.src'),
      dst: col('ipv6.dst'),
      fromClient: col('udp.srcport') === '546',
      msgType: Number(col('dhcpv6.msgtype')),
      xid: Number(col('dhcpv6.xid')),
      optionCodes: options.map(([code]) => code),
      iaAddresses: addresses.map((address, i) => ({
        address, preferred: nums('dhcpv6.iaaddr.pref_lifetime')[i] ?? NaN, valid: nums('dhcpv6.iaaddr.valid_lifetime')[i] ?? NaN,
      })),
      iaPrefixes: prefixes.map((prefix, i) => ({
        prefix: `${prefix}/${nums('dhcpv6.iaprefix.pref_len')[i] ?? NaN}`,
        preferred: nums('dhcpv6.iaprefix.pref_lifetime')[i] ?? NaN, valid: nums('dhcpv6.iaprefix.valid_lifetime')[i] ?? NaN,
      })),
      t1: nums('dhcpv6.iaid.t1'),
      t2: nums('dhcpv6.iaid.t2'),
      statusCodes: nums('dhcpv6.status_code'),
      oro,
    }
    if (clientIdOption) packet.clientId = clientIdOption[1].toString('hex')
    packets.push(packet)
  }
  return packets
}

export function messageName(type: number): string {
  return Object.entries(MessageType).find(([, value]) => value === type)?.[0] ?? `type ${type}`
}

/** "Solicit Advertise Request Reply ..." for assertion messages. */
export function sequence(packets: readonly CapturedPacket[]): string {
  return packets.map(p => messageName(p.msgType)).join(' ')
}

/** The Reply that answers `request` (same xid, after it). */
export function replyTo(packets: readonly CapturedPacket[], request: CapturedPacket): CapturedPacket | undefined {
  return packets.find(p => !p.fromClient && p.msgType === MessageType.Reply && p.xid === request.xid && p.time >= request.time)
}

// ---------------------------------------------------------------------------------------------
// The interface as the kernel shows it

export interface InterfaceAddress {
  local: string
  prefixlen: number
  scope: string
  valid_life_time: number
  preferred_life_time: number
  dynamic?: boolean
}

export async function interfaceAddresses(ns: Namespace, ifname: string): Promise<InterfaceAddress[]> {
  const { stdout } = await ns.run(['ip', '-j', '-6', 'addr', 'show', 'dev', ifname])
  return (JSON.parse(stdout || '[]') as { addr_info?: InterfaceAddress[] }[])[0]?.addr_info ?? []
}

// ---------------------------------------------------------------------------------------------
// The lab

export interface ClientLabOptions {
  /** The /64 on the link, e.g. "2001:db8:7::" (trailing "::"). */
  prefix64?: string
  radvd?: RadvdOptions
  /** Kea's options on top of the lab's interface, subnet and a pool of ::100-::1ff. */
  kea?: Partial<KeaOptions>
  /** dnsmasq instead of Kea: its options on top of the lab's interface. */
  dnsmasq?: Partial<DnsmasqOptions>
  /** No DHCPv6 server at all: the test runs its own in `net.router`. */
  noServer?: boolean
}

export interface DaemonRun {
  daemon: Daemon
  /** The daemon's JSON log lines so far. */
  log(): Record<string, unknown>[]
}

export class ClientLab {
  readonly stateDir: string
  readonly socket: string
  readonly resolvFragment: string
  readonly hookScript: string
  /** Where the hook script appends its environment, one block per call, blocks separated by "--". */
  readonly hookLog: string
  daemon: DaemonRun | undefined
  kea: KeaServer | undefined
  dnsmasq: DnsmasqServer | undefined

  private constructor(
    readonly lab: NetnsLab,
    readonly net: RouterLab,
    readonly prefix64: string,
    readonly capture: Capture,
    readonly radvd: Daemon,
  ) {
    this.stateDir = join(lab.dir, 'state')
    this.socket = join(lab.dir, 'ra6dhcp.sock')
    this.resolvFragment = join(lab.dir, 'eth0.resolv.conf')
    this.hookLog = join(lab.dir, 'hook.env')
    this.hookScript = join(lab.dir, 'hook.sh')
    writeFileSync(this.hookScript, `#!/bin/sh\n{ env | sort; echo --; } >> '${this.hookLog}'\n`)
    chmodSync(this.hookScript, 0o755)
  }

  get ns(): Namespace { return this.net.clients[0]!.ns }
  get ifname(): string { return this.net.clients[0]!.ifname }

  /**
   * Router namespace with the server and radvd (server first, then the RA, as a Ready Logo lab
   * does), a client namespace, and dumpcap on the client's eth0. The daemon is not started yet.
   */
  static async create(t: Pick<Test, 'teardown' | 'passing' | 'comment'>, options: ClientLabOptions = {}): Promise<ClientLab> {
    const lab = new NetnsLab()
    let clientLab: ClientLab | undefined
    // A failing test shows the packet sequence and the daemon's log before the lab is removed.
    t.teardown(async () => {
      if (clientLab && !t.passing()) t.comment(await clientLab.diagnostics().catch(err => `no diagnostics: ${(err as Error).message}`))
      await lab.cleanup()
    })
    const prefix64 = options.prefix64 ?? '2001:db8:7::'
    const net = await buildRouterLab(lab, { prefix64 })
    const client = net.clients[0]!
    const capture = await startCapture(client.ns, client.ifname, join(lab.dir, 'client.pcapng'), { routerAdvertisements: true })
    let kea: KeaServer | undefined
    let dnsmasq: DnsmasqServer | undefined
    if (options.noServer) {
      // the test's own server
    } else if (options.dnsmasq) {
      dnsmasq = await startDnsmasq(net.router, { interface: net.routerIf, ranges: [], ...options.dnsmasq })
    } else {
      kea = await startKea(net.router, { interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}100-${prefix64}1ff`], ...options.kea })
    }
    const radvd = await startRadvd(net.router, net.routerIf, { managed: true, minInterval: 3, maxInterval: 4, ...options.radvd })
    clientLab = new ClientLab(lab, net, prefix64, capture, radvd)
    clientLab.kea = kea
    clientLab.dnsmasq = dnsmasq
    return clientLab
  }

  /** `ra6dhcp run eth0` with everything in lab.dir, JSON logs at debug level, and the hook. */
  startDaemon(extraArgs: string[] = [], name = 'ra6dhcp'): DaemonRun {
    const daemon = this.ns.spawn(name, [
      process.execPath, cli, 'run', this.ifname, '--ra-source', 'rtnetlink', '--state-dir', this.stateDir,
      '--control-socket', this.socket, '--resolv-conf', this.resolvFragment, '--hook', this.hookScript,
      '--log-format', 'json', '--log-level', 'debug', ...extraArgs,
    ])
    const run: DaemonRun = {
      daemon,
      log: () => readLog(daemon).split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>),
    }
    this.daemon = run
    return run
  }

  /** SIGTERM (no Release unless the daemon was started with --release-on-stop); resolves with the exit code. */
  async stopDaemon(): Promise<number | string> {
    if (!this.daemon) throw new Error('no daemon started')
    return signalAndWait(this.daemon.daemon, 'SIGTERM', 10_000)
  }

  ctl(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [cli, 'ctl', '--socket', this.socket, ...argv], { encoding: 'utf8', timeout: 60_000 })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }

  /** `ra6dhcp ctl status --json`, this interface's report. */
  status(): InterfaceReport {
    const r = this.ctl('status', '--json')
    if (r.code !== 0) throw new Error(`ctl status failed (${r.code}): ${r.stderr}`)
    const report = (JSON.parse(r.stdout) as { status: { interfaces: InterfaceReport[] } }).status.interfaces[0]
    if (!report) throw new Error(`ctl status: no interface in ${r.stdout}`)
    return report
  }

  addresses(): Promise<InterfaceAddress[]> {
    return interfaceAddresses(this.ns, this.ifname)
  }

  /** The /128s on eth0 from the lab's /64 (the DHCPv6 leases; SLAAC is off unless radvd says A=1). */
  async leasedAddresses(prefix64 = this.prefix64): Promise<InterfaceAddress[]> {
    const head = prefix64.replace(/::$/, ':')
    return (await this.addresses()).filter(a => a.prefixlen === 128 && a.local.startsWith(head))
  }

  async waitForLeasedAddress(timeoutMs = 20_000, prefix64 = this.prefix64): Promise<InterfaceAddress> {
    return waitFor(`a leased /128 from ${prefix64}/64 on eth0`, async () => {
      this.assertDaemonRunning()
      return (await this.leasedAddresses(prefix64))[0]
    }, timeoutMs, 100)
  }

  packets(): Promise<CapturedPacket[]> {
    return readPackets(this.capture.file)
  }

  /** Waits until the capture holds a packet matching `match` after the first `after` packets. */
  async waitForPacket(what: string, match: (p: CapturedPacket) => boolean, timeoutMs = 20_000, after = 0): Promise<CapturedPacket> {
    return waitFor(what, async () => {
      this.assertDaemonRunning()
      return (await this.packets()).slice(after).find(match)
    }, timeoutMs, 200)
  }

  /** The hook's calls so far, each as its environment. */
  hookCalls(): Record<string, string>[] {
    if (!existsSync(this.hookLog)) return []
    return readFileSync(this.hookLog, 'utf8').split('--\n').filter(b => b.trim() !== '').map(block => {
      const env: Record<string, string> = {}
      for (const line of block.split('\n')) {
        const eq = line.indexOf('=')
        if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1)
      }
      return env
    })
  }

  /** Stops Kea (SIGTERM); its lease file stays for a restart. */
  async stopKea(): Promise<void> {
    if (this.kea) await stopKea(this.kea)
  }

  /** Starts Kea again with the same name (so the same lease file), optionally with changed options. */
  async restartKea(changes: Partial<KeaOptions> = {}): Promise<KeaServer> {
    if (!this.kea) throw new Error('this lab runs no Kea')
    if (this.kea.daemon.process.exitCode === null && this.kea.daemon.process.signalCode === null) await stopKea(this.kea)
    this.kea = await startKea(this.net.router, { ...this.kea.options, ...changes })
    return this.kea
  }

  /** Fails with the daemon's log if it has exited. */
  assertDaemonRunning(): void {
    const d = this.daemon?.daemon
    if (d && (d.process.exitCode !== null || d.process.signalCode !== null)) {
      throw new Error(`ra6dhcp exited (${d.process.exitCode ?? d.process.signalCode}); log:\n${readLog(d)}`)
    }
  }

  /** For a failing test: the daemon's log and the packet sequence. */
  async diagnostics(): Promise<string> {
    const packets = await this.packets()
    const start = packets[0]?.time ?? 0
    const lines = packets.map(p => `${(p.time - start).toFixed(3)} ${p.fromClient ? '->' : '<-'} ${messageName(p.msgType)} xid=0x${p.xid.toString(16)} ${p.iaAddresses.map(a => a.address).join(' ')} status=${p.statusCodes.join(',')}`)
    return `packets:\n${lines.join('\n')}\ndaemon log:\n${this.daemon ? readLog(this.daemon.daemon).slice(-6000) : '(none)'}`
  }
}
