// One lab run in network namespaces: a router namespace with radvd (M=1) and Kea on a bridge, a
// client namespace where `ra6dhcp run eth0` gets a lease. It records raw facts only: the daemon's
// JSON log, a capture of eth0 (RAs and DHCPv6, wire timestamps), `ip monitor` address events, the
// lease file the daemon wrote, Kea's lease file, and the offset between the realtime and monotonic
// clocks (the kernel stamps RAs with CLOCK_MONOTONIC; captures and logs use realtime).
// Used by scripts/lab.sh (in the VM with ra6mon, or on the host with rtnetlink) and by
// test/vm/client-e2e.test.ts (in the VM). Run it as root:
//   node dist/src/lab/scenario.js --out DIR [--ra-source ra6mon|rtnetlink] [--profile P]
//        [--on-ra auto|solicit] [--order daemon-first|ra-first] [--extra-ra] [--timeout-ms N]
// It writes DIR/NAME.json (ScenarioRecord) and exits 0 when the lease was obtained.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetnsLab, type Daemon, type Namespace } from '../../test/lib/netns.js'
import {
  buildRouterLab, keaConfig, readKeaLeases, readLog, signalAndWait, startCapture, startRadvd, waitFor,
  type Capture, type KeaLease, type KeaOptions, type RadvdOptions,
} from '../../test/lib/servers.js'

/** The repository: the nearest directory above this file with a package.json (from src/ or dist/src/). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}
const cli = join(findRepoRoot(), 'dist/src/cli/main.js')

export interface ScenarioOptions {
  name: string
  raSource: 'ra6mon' | 'rtnetlink'
  profile: 'rfc8415' | 'rfc3315'
  onRa: 'auto' | 'solicit'
  /**
   * daemon-first: the daemon runs, then radvd starts and its first RA is a live one.
   * ra-first: radvd's RA is accepted, radvd is killed (no later RA), then the daemon starts and
   * can learn M=1 only from the state the kernel remembered (ra6mon's replay) - the Ready Logo order.
   */
  order: 'daemon-first' | 'ra-first'
  /** After the lease, one more RA (a fresh radvd's first one): does it start another Solicit? */
  extraRa: boolean
  /** The lease must be on eth0 within this long after the daemon starts (or radvd, daemon-first). */
  timeoutMs: number
  /** Keep the capture as bytes in the record (captureBase64) for the host to decode: tshark is slow under TCG. */
  rawCapture?: boolean
  /** Copy every file of the run (daemon, radvd and Kea logs, the capture) here before cleanup. */
  keepTo?: string
}

/** One frame of the capture on eth0 (tshark fields). */
export interface CaptureRow {
  timeUs: number
  /** "RA", "RS" or a DHCPv6 message type name ("Solicit", ...). */
  kind: string
  xid?: string
}

export interface AddressEvent { timeUs: number; address: string; deleted: boolean }

export interface ScenarioRecord {
  options: ScenarioOptions
  ok: boolean
  error?: string
  /** The daemon's command line, as a user would type it. */
  command: string
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ns, sampled once (decimal string). */
  clockOffsetNs: string
  /** The daemon's output: JSON lines (and anything it printed on stderr). */
  daemonLog: string
  capture: CaptureRow[]
  /** The pcapng itself, when options.rawCapture: decode with captureRows(). */
  captureBase64?: string
  addressEvents: AddressEvent[]
  /** The daemon's lease file (STATE_DIR/eth0.lease.json), parsed. */
  lease?: unknown
  keaLeases: KeaLease[]
  /** The address that appeared on eth0. */
  address?: string
  /** Monotonic-clock µs (converted to realtime) of moments the scenario itself caused. */
  marks: Record<string, number>
  wallMs: number
}

const prefix64 = '2001:db8:6a::'

export function realtimeMinusMonotonicNs(): bigint {
  // Python reads both clocks in ns, back to back; Node has no realtime clock finer than 1 ms.
  const out = execFileSync('python3', ['-c',
    'import time;a=time.clock_gettime_ns(time.CLOCK_MONOTONIC);r=time.clock_gettime_ns(time.CLOCK_REALTIME);b=time.clock_gettime_ns(time.CLOCK_MONOTONIC);print(r-(a+b)//2)'],
  { encoding: 'utf8' })
  return BigInt(out.trim())
}

const nowUs = () => Date.now() * 1000
const progress = (started: number, what: string) => process.stderr.write(`[scenario +${((Date.now() - started) / 1000).toFixed(1)}s] ${what}\n`)

/** tshark's view of the capture: one row per RA, RS and DHCPv6 message. */
export function readCapture(file: string): CaptureRow[] {
  if (!existsSync(file)) return []
  const out = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'separator=|',
    '-e', 'frame.time_epoch', '-e', 'icmpv6.type', '-e', 'dhcpv6.msgtype', '-e', 'dhcpv6.xid'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const names: Record<string, string> = {
    1: 'Solicit', 2: 'Advertise', 3: 'Request', 4: 'Confirm', 5: 'Renew', 6: 'Rebind', 7: 'Reply',
    8: 'Release', 9: 'Decline', 10: 'Reconfigure', 11: 'Information-request',
  }
  const rows: CaptureRow[] = []
  for (const line of out.split('\n')) {
    const [time, icmp, msgtype, xid] = line.split('|')
    if (!time) continue
    const [sec, frac = ''] = time.split('.')
    const timeUs = Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6))
    if (icmp === '134') rows.push({ timeUs, kind: 'RA' })
    else if (icmp === '133') rows.push({ timeUs, kind: 'RS' })
    else if (msgtype) {
      const first = msgtype.split(',')[0] ?? ''
      rows.push({ timeUs, kind: names[first] ?? `type ${first}`, ...(xid ? { xid: xid.split(',')[0]! } : {}) })
    }
  }
  return rows
}

/** `ip -ts monitor address` lines: "[2026-11-22T07:33:15.001886] 2: eth0    inet6 2001:db8::5/128 scope global". */
export function parseAddressMonitor(text: string, ifname: string): AddressEvent[] {
  const events: AddressEvent[] = []
  for (const line of text.split('\n')) {
    const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\] (Deleted )?\d+: (\S+)\s+inet6 ([0-9a-f:]+)\/(\d+) scope global(.*)$/.exec(line)
    if (!m || m[9] !== ifname || / tentative/.test(m[12] ?? '')) continue
    const n = (i: number) => Number(m[i])
    // ip prints local time, without a zone: read it back the same way.
    const ms = new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6)).getTime()
    events.push({ timeUs: ms * 1000 + Number((m[7] ?? '').padEnd(6, '0').slice(0, 6)), address: m[10]!, deleted: m[8] !== undefined })
  }
  return events
}

/** The capture rows of a record, decoding a raw capture with tshark here (on the host) when needed. */
export function captureRows(record: ScenarioRecord): CaptureRow[] {
  if (record.capture.length > 0 || !record.captureBase64) return record.capture
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-capture-'))
  try {
    const file = join(dir, 'capture.pcapng')
    writeFileSync(file, Buffer.from(record.captureBase64, 'base64'))
    return readCapture(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Kea with the shared fixture's config (keaConfig), started without its `-t` dry run and `ss`
 * polling (each a process start, slow under TCG): ready when its log says DHCP6_STARTED.
 */
export async function startKeaQuietly(ns: Namespace, options: KeaOptions, timeoutMs: number): Promise<{ daemon: Daemon; leaseFile: string }> {
  const name = options.name ?? 'kea6'
  const configFile = join(ns.lab.dir, `${name}.json`)
  writeFileSync(configFile, JSON.stringify(keaConfig(ns.lab, options), null, 2))
  const runDir = join(ns.lab.dir, `${name}-run`)
  mkdirSync(runDir, { recursive: true })
  const daemon = ns.spawn(name, ['kea-dhcp6', '-c', configFile], {
    env: { ...process.env, KEA_LOCKFILE_DIR: runDir, KEA_PIDFILE_DIR: runDir, KEA_LOGGER_DESTINATION: 'stdout' },
  })
  await waitFor('Kea to start serving', () => {
    if (daemon.process.exitCode !== null) throw new Error(`kea-dhcp6 exited with ${daemon.process.exitCode}:\n${readLog(daemon)}`)
    return readLog(daemon).includes('DHCP6_STARTED')
  }, timeoutMs, 100)
  return { daemon, leaseFile: join(ns.lab.dir, `${name}-leases.csv`) }
}

function parseArgs(argv: string[]): { out: string; options: ScenarioOptions } {
  const options: ScenarioOptions = {
    name: 'lab', raSource: 'ra6mon', profile: 'rfc3315', onRa: 'auto', order: 'daemon-first', extraRa: false, timeoutMs: 30_000,
  }
  let out: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    const oneOf = <T extends string>(v: string, allowed: readonly T[]): T => {
      if (!(allowed as readonly string[]).includes(v)) throw new Error(`${flag} must be one of ${allowed.join(', ')} (got '${v}')`)
      return v as T
    }
    switch (flag) {
      case '--out': out = value(); break
      case '--name': options.name = value(); break
      case '--ra-source': options.raSource = oneOf(value(), ['ra6mon', 'rtnetlink'] as const); break
      case '--profile': options.profile = oneOf(value(), ['rfc8415', 'rfc3315'] as const); break
      case '--on-ra': options.onRa = oneOf(value(), ['auto', 'solicit'] as const); break
      case '--order': options.order = oneOf(value(), ['daemon-first', 'ra-first'] as const); break
      case '--extra-ra': options.extraRa = true; break
      case '--timeout-ms': options.timeoutMs = Number(value()); break
      case '--raw-capture': options.rawCapture = true; break
      case '--keep-to': options.keepTo = value(); break
      default: throw new Error(`unknown argument '${flag}'`)
    }
  }
  if (!out) throw new Error('--out DIR is required')
  return { out, options }
}

/** Runs one scenario; never throws for a failed run (record.ok/error say what happened). */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioRecord> {
  const started = Date.now()
  const lab = new NetnsLab()
  const marks: Record<string, number> = {}
  let daemon: Daemon | undefined
  let capture: Capture | undefined
  let monitor: Daemon | undefined
  const state = join(lab.dir, 'ra6dhcp-state')
  const socket = join(lab.dir, 'ra6dhcp.sock')
  const args = ['run', 'eth0', '--ra-source', options.raSource, '--profile', options.profile, '--on-ra', options.onRa,
    '--sol-max-delay', '0', '--log-format', 'json', '--state-dir', state, '--control-socket', socket]
  const record: ScenarioRecord = {
    options, ok: false, command: `ra6dhcp ${args.join(' ')}`, clockOffsetNs: '0', daemonLog: '', capture: [],
    addressEvents: [], keaLeases: [], marks, wallMs: 0,
  }
  const radvdOptions = (name: string): RadvdOptions => ({
    name, managed: true, minInterval: 200, maxInterval: 600,
    prefixes: [{ prefix: `${prefix64}/64`, autonomous: false }],
  })
  let kea: { leaseFile: string } | undefined
  try {
    record.clockOffsetNs = realtimeMinusMonotonicNs().toString()
    progress(started, 'namespaces')
    const net = await buildRouterLab(lab, { prefix64 })
    const client = net.clients[0]!
    // No RS from the kernel itself: the RAs in the capture are radvd's answers to us or its own.
    await client.ns.sysctl('net.ipv6.conf.eth0.router_solicitations', 0)
    // Kea and dumpcap start slowly under TCG: side by side.
    const capturing = startCapture(client.ns, 'eth0', join(lab.dir, 'eth0.pcapng'), { routerAdvertisements: true })
    kea = await startKeaQuietly(net.router, {
      interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}100-${prefix64}1ff`],
      renewTimer: 1000, rebindTimer: 1600, preferredLifetime: 2000, validLifetime: 3000, dnsServers: [`${prefix64}53`],
    }, options.timeoutMs)
    capture = await capturing
    progress(started, 'Kea and the capture started')
    monitor = client.ns.spawn('ip-monitor', ['ip', '-ts', '-6', 'monitor', 'address'])

    let radvd: Daemon | undefined
    const startDaemon = async () => {
      marks.daemonStarted = nowUs()
      daemon = client.ns.spawn('ra6dhcp', [process.execPath, cli, ...args], { env: { ...process.env, NO_COLOR: '1' } })
      const d = daemon
      await waitFor('ra6dhcp to say it is running', () => {
        if (d.process.exitCode !== null) throw new Error(`ra6dhcp exited with ${d.process.exitCode}:\n${readLog(d)}`)
        return readLog(d).includes('"msg":"ra6dhcp running"')
      }, options.timeoutMs)
    }
    if (options.order === 'ra-first') {
      radvd = await startRadvd(net.router, net.routerIf, radvdOptions('radvd'))
      marks.radvdStarted = nowUs()
      await waitFor('the kernel of the client namespace to accept radvd\'s RA', async () => {
        if (options.raSource === 'ra6mon') {
          const { stdout } = await client.ns.run(['cat', '/proc/net/ra6mon'])
          return /^ra_accepted [1-9]/m.test(stdout)
        }
        const { stdout } = await client.ns.run(['ip', '-6', 'route', 'show', 'default'])
        return stdout.includes('via fe80')
      }, options.timeoutMs)
      // SIGKILL: radvd's goodbye RA (router lifetime 0) would be a new, live RA.
      await signalAndWait(radvd, 'SIGKILL')
      marks.radvdKilled = nowUs()
      await startDaemon()
    } else {
      await startDaemon()
      // Let the daemon's start-up (its Router Solicitation through rdisc6) settle, so the RA meets
      // an idle daemon, as in a lab where the client has been up for a while.
      await new Promise(r => setTimeout(r, 1500))
      radvd = await startRadvd(net.router, net.routerIf, radvdOptions('radvd'))
      marks.radvdStarted = nowUs()
    }

    // Read what `ip monitor` already wrote rather than spawning `ip` in a loop: under TCG every
    // process start costs tens of ms of the guest's CPU, which would slow the exchange measured.
    const watched = monitor!
    record.address = await waitFor('the leased address on eth0', () =>
      parseAddressMonitor(readLog(watched), 'eth0').find(e => !e.deleted)?.address, options.timeoutMs, 50)
    marks.addressSeen = nowUs()
    await waitFor('the daemon\'s lease file', () => existsSync(join(state, 'eth0.lease.json')), 5000)

    progress(started, 'lease on eth0')
    if (options.extraRa) {
      await signalAndWait(radvd, 'SIGKILL')
      // A fresh radvd sends its first RA at once; then give the daemon time to react (or not).
      // Marked before: radvd sends its first RA as it starts.
      marks.extraRaStarted = nowUs()
      await startRadvd(net.router, net.routerIf, radvdOptions('radvd2'))
      await new Promise(r => setTimeout(r, 4000))
    }
    progress(started, 'done')
    record.ok = true
  } catch (err) {
    record.error = (err as Error).message
  } finally {
    if (daemon) {
      await signalAndWait(daemon, 'SIGTERM').catch(() => undefined)
      record.daemonLog = readLog(daemon)
    }
    if (existsSync(join(state, 'eth0.lease.json'))) record.lease = JSON.parse(readFileSync(join(state, 'eth0.lease.json'), 'utf8'))
    if (kea) record.keaLeases = readKeaLeases(kea.leaseFile).current
    if (capture) {
      // dumpcap reads the kernel's capture ring in blocks and drops a block not yet handed over
      // when it stops: wait past the block timeout so the last exchange is in the file.
      await new Promise(r => setTimeout(r, 1500))
      await capture.stop().catch(() => undefined)
      if (options.rawCapture) {
        if (existsSync(capture.file)) record.captureBase64 = readFileSync(capture.file).toString('base64')
      } else {
        try { record.capture = readCapture(capture.file) } catch (err) { record.error ??= `reading the capture: ${(err as Error).message}` }
      }
    }
    if (monitor) {
      await lab.stop(monitor).catch(() => undefined)
      record.addressEvents = parseAddressMonitor(readLog(monitor), 'eth0')
    }
    if (options.keepTo) cpSync(lab.dir, options.keepTo, { recursive: true, filter: source => !source.endsWith('.sock') })
    await lab.cleanup()
    progress(started, 'cleaned up')
    record.wallMs = Date.now() - started
  }
  return record
}

async function main(): Promise<number> {
  const { out, options } = parseArgs(process.argv.slice(2))
  const record = await runScenario(options)
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, `${options.name}.json`), JSON.stringify(record, null, 1))
  if (!record.ok) process.stderr.write(`scenario ${options.name} failed: ${record.error}\n`)
  return record.ok ? 0 : 1
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(code => { process.exitCode = code }, err => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 2 })
}
