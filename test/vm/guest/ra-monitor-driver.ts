// Guest side of test/vm/ra-monitor.test.ts and bench/ra-latency.ts, run in the VM (compiled to
// dist/) inside the client namespace "c", whose eth0 is linked to rt0 in the router namespace "rtr".
// It drives RaMonitor with the real module and writes raw facts as JSON under $RA6_VM_OUT/ra-monitor/;
// the host asserts on them.
//   node ra-monitor-driver.js missing    (before insmod) the missing-module errors and the fallback
//   node ra-monitor-driver.js main       replay, fields, two monitors, close/reopen, overrun, EPERM
//   node ra-monitor-driver.js eperm      (run as uid 65534 by `main`) prints the register error
//   node ra-monitor-driver.js bench N INTERVAL_US FLOOD   latency and flood figures
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { RaMonitor, type RaMonitorOptions } from '../../../src/ra/monitor.js'
import { raEventToJson } from '../../../src/ra/format.js'
import { monotonicNs, openNativeSocket } from '../../../src/ra/native.js'
import { readRa6monProtocol } from '../../../src/ra/sources.js'
import { encodeRegister } from '../../../src/ra/ra6mon-protocol.js'
import type { RaEvent } from '../../../src/ra/events.js'

const outDir = join(process.env.RA6_VM_OUT ?? '/tmp', 'ra-monitor')
const here = fileURLToPath(import.meta.url)
const repo = process.env.RA6_REPO ?? join(here, '../../../../..')

function save(name: string, value: unknown): void {
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 1))
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function waitUntil(what: string, check: () => boolean, timeoutMs = 20000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) { process.stderr.write(`timed out waiting for ${what}\n`); return false }
    await sleep(50)
  }
  return true
}

/** The long-lived crafted-RA sender in the router namespace (test/vm/guest/ra-send.py). */
class Sender {
  private readonly child: ChildProcess
  private readonly lines: string[] = []
  private waiting: ((line: string) => void) | undefined

  constructor() {
    this.child = spawn('ip', ['netns', 'exec', 'rtr', '/usr/bin/python3', join(repo, 'test/vm/guest/ra-send.py'), '--iface', 'rt0'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    createInterface({ input: this.child.stdout! }).on('line', line => {
      if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(line) } else this.lines.push(line)
    })
  }

  private next(): Promise<string> {
    const line = this.lines.shift()
    return line !== undefined ? Promise.resolve(line) : new Promise(resolve => { this.waiting = resolve })
  }

  async ready(): Promise<void> { await this.next() }

  async send(count: number, intervalUs: number): Promise<{ sent: number; seconds: number }> {
    this.child.stdin!.write(`send ${count} ${intervalUs}\n`)
    return JSON.parse(await this.next()) as { sent: number; seconds: number }
  }

  close(): void { this.child.stdin!.end() }
}

interface Recorded {
  monitor: RaMonitor
  events: Array<{ event: RaEvent; callbackNs: bigint; wakeNs: bigint }>
  warnings: string[]
  overruns: number
  recoveries: number
}

function record(options: RaMonitorOptions): Recorded {
  // Stamps each wake-up as it enters JS, to split the latency into "reaching JS" and "our code".
  let wakeNs = 0n
  const monitor = new RaMonitor({
    ...options,
    openSocket: (o, wake) => openNativeSocket(o, w => { wakeNs = monotonicNs(); wake(w) }),
  })
  const r: Recorded = { monitor, events: [], warnings: [], overruns: 0, recoveries: 0 }
  monitor.on('ra', event => r.events.push({ event, callbackNs: monotonicNs(), wakeNs }))
  monitor.on('warning', w => r.warnings.push(w))
  monitor.on('overrun', () => r.overruns++)
  monitor.on('recovered', () => r.recoveries++)
  monitor.on('error', err => process.stderr.write(`monitor error: ${err.message}\n`))
  return r
}

const live = (r: Recorded) => r.events.filter(e => !e.event.replayed)
const json = (r: Recorded, from = 0) => r.events.slice(from).map(e => raEventToJson(e.event))

function errorFacts(err: unknown): Record<string, unknown> {
  const e = err as { message?: string; code?: unknown; errno?: unknown; syscall?: unknown }
  return { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall }
}

async function missing(): Promise<void> {
  const facts: Record<string, unknown> = {}
  for (const [name, options] of [
    ['ra6mon', { source: 'ra6mon' }],
    ['ra6monProtocol31', { source: 'ra6mon', protocol: 31 }],
  ] as Array<[string, RaMonitorOptions]>) {
    facts[name] = await new RaMonitor(options).start().then(() => ({ started: true }), errorFacts)
  }
  const auto = record({ source: 'auto' })
  await auto.monitor.start()
  facts.auto = { source: auto.monitor.source, warnings: auto.warnings }
  await auto.monitor.close()
  save('missing', facts)
}

async function eperm(): Promise<void> {
  const facts = await new RaMonitor({ source: 'ra6mon' }).start().then(() => ({ started: true }), errorFacts)
  process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), ...facts })}\n`)
}

/** Raw datagrams of a registration (the replay of radvd's RA, then the ack): a unit-test fixture. */
async function capture(): Promise<void> {
  const datagrams: string[] = []
  const socket = openNativeSocket({ protocol: readRa6monProtocol() ?? 31 }, wakeup => {
    for (const d of wakeup.datagrams) datagrams.push(d.toString('hex'))
  })
  socket.send(encodeRegister(7))
  await waitUntil('the ack', () => datagrams.some(d => d.slice(8, 12) === '0200'), 5000)
  socket.close()
  save('capture', { registerSeq: 7, datagrams })
}

async function main(): Promise<void> {
  await capture()
  const sender = new Sender()
  await sender.ready()

  // Replay at start: radvd's RA was accepted before this process existed.
  const m1 = record({ source: 'auto' })
  await m1.monitor.start()
  save('replay', { source: m1.monitor.source, warnings: m1.warnings, events: json(m1) })

  // Two monitors in one process, then one crafted RA (every fixed field set) reaches both.
  const m2 = record({ source: 'ra6mon', interfaces: ['eth0'] })
  await m2.monitor.start()
  const sentAt = monotonicNs()
  await sender.send(1, 0)
  await waitUntil('the crafted RA on both monitors', () => live(m1).length >= 1 && live(m2).length >= 1)
  const e1 = live(m1)[0]
  save('two', {
    ports: [m1.monitor.portId, m2.monitor.portId],
    m2Replayed: json(m2).filter(e => e.replayed),
    m1: e1 ? raEventToJson(e1.event) : null,
    m2: live(m2)[0] ? raEventToJson(live(m2)[0]!.event) : null,
    sentAtNs: sentAt,
    latencyNs: live(m1).map(e => e.callbackNs - (e.event.kernelTimeNs ?? 0n)),
  })

  // Close one and open another: the closed one hears nothing more, the new one gets the replay.
  const m2Count = m2.events.length
  const m2Port = m2.monitor.portId
  await m2.monitor.close()
  const m3 = record({ source: 'ra6mon' })
  await m3.monitor.start()
  const m1Live = live(m1).length
  await sender.send(1, 0)
  await waitUntil('the next RA on m1 and m3', () => live(m1).length > m1Live && live(m3).length >= 1)
  await sleep(100)
  save('reopen', {
    closedPort: m2Port, newPort: m3.monitor.portId, m2EventsAfterClose: m2.events.length - m2Count,
    m3: json(m3), m1Live: live(m1).length - m1Live,
  })

  // Overrun: a tiny receive buffer and a blocked event loop during a flood.
  const m4 = record({ source: 'ra6mon', receiveBufferBytes: 4096 })
  await m4.monitor.start()
  const statsBefore = await m1.monitor.kernelStats()
  const flood = sender.send(2000, 0)
  const blockUntil = Date.now() + 1500
  while (Date.now() < blockUntil) { /* the kernel keeps queueing; nobody reads */ }
  const floodResult = await flood
  await waitUntil('recovery from the overrun', () => m4.recoveries >= 1 && m4.recoveries === m4.overruns || m4.overruns === 0, 20000)
  // Quiet: no more events for a while.
  let last = -1
  await waitUntil('the flood to drain', () => { const n = m4.events.length + m1.events.length; const quiet = n === last; last = n; return quiet }, 20000)
    .then(() => sleep(200))
  const statsAfter = await m1.monitor.kernelStats()
  const m5 = record({ source: 'ra6mon' })
  await m5.monitor.start()
  const lastSeqOf = (r: Recorded) => r.events.reduce((max, e) => (e.event.seq !== undefined && e.event.seq > max ? e.event.seq : max), 0n)
  save('overrun', {
    flood: floodResult,
    m4: { ...m4.monitor.stats, overrunEvents: m4.overruns, recoveredEvents: m4.recoveries, lastSeq: lastSeqOf(m4), live: live(m4).length },
    m1: { ...m1.monitor.stats, lastSeq: lastSeqOf(m1) },
    m5Replay: json(m5),
    statsBefore, statsAfter,
  })

  // EPERM: the same code as an unprivileged user.
  const child = spawnSync(process.execPath, [here, 'eperm'], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30000 })
  save('eperm', { status: child.status, stdout: child.stdout, stderr: child.stderr })

  for (const r of [m1, m3, m4, m5]) await r.monitor.close()
  sender.close()
}

function percentile(sorted: bigint[], p: number): bigint {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0n
}

async function bench(count: number, intervalUs: number, floodCount: number): Promise<void> {
  const sender = new Sender()
  await sender.ready()
  const m = record({ source: 'ra6mon' })
  await m.monitor.start()
  // Polls a counter, not the event list: the bench must not tax the loop it measures.
  let liveCount = 0
  m.monitor.on('ra', (e: RaEvent) => { if (!e.replayed) liveCount++ })
  await sender.send(count, intervalUs)
  await waitUntil(`${count} events`, () => liveCount >= count, 60000)
  const latencies = live(m).map(e => e.callbackNs - e.event.kernelTimeNs!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const sorted = (xs: bigint[]) => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const toJs = sorted(live(m).map(e => e.wakeNs - e.event.kernelTimeNs!))
  const inJs = sorted(live(m).map(e => e.callbackNs - e.wakeNs))
  const paced = {
    events: latencies.length, p50Ns: percentile(latencies, 0.5), p99Ns: percentile(latencies, 0.99), maxNs: latencies.at(-1),
    kernelToWakeupP50Ns: percentile(toJs, 0.5), kernelToWakeupP99Ns: percentile(toJs, 0.99),
    wakeupToCallbackP50Ns: percentile(inJs, 0.5), wakeupToCallbackP99Ns: percentile(inJs, 0.99),
  }

  const before = live(m).length
  const floodSent = await sender.send(floodCount, 0)
  let lastCount = -1
  await waitUntil('the flood to drain', () => { const n = liveCount; const quiet = n === lastCount; lastCount = n; return quiet && n > before }, 60000)
  await sleep(200)
  const floodEvents = live(m).slice(before)
  const first = floodEvents[0]?.callbackNs ?? 0n
  const lastAt = floodEvents.at(-1)?.callbackNs ?? 0n
  const seconds = Number(lastAt - first) / 1e9
  save('bench', {
    paced: { ...paced, sent: count, intervalUs },
    flood: { sent: floodSent, delivered: floodEvents.length, seconds, eventsPerSecond: seconds > 0 ? floodEvents.length / seconds : 0, overruns: m.overruns },
    kernel: await m.monitor.kernelStats(),
  })
  await m.monitor.close()
  sender.close()
}

const [mode = 'main', ...args] = process.argv.slice(2)
const run = mode === 'missing' ? missing() : mode === 'eperm' ? eperm() : mode === 'bench'
  ? bench(Number(args[0] ?? 1000), Number(args[1] ?? 2000), Number(args[2] ?? 20000)) : main()
run.then(() => process.exit(0), err => {
  process.stderr.write(`ra-monitor-driver ${mode}: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
