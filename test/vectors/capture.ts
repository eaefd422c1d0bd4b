// Captures real DHCPv6 exchanges between real peers in network namespaces and writes
// test/vectors/captures/<scenario>.pcapng and test/vectors/packets.json (see README.md here).
//
//   node --import @tapjs/typescript/import test/vectors/capture.ts [--list] [--json-only] [scenario...]
//
// Runs as root. Each scenario builds its own lab (router namespace with radvd and a server, client
// namespaces on a bridge), captures on the router's link, and cleans up. packets.json is rebuilt
// from every committed capture of a known scenario, so running one scenario keeps the others.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, copyFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetnsLab } from '../lib/netns.js'
import {
  buildRouterLab, readDhclientLease, readKeaLeases, releaseDhclient, startCapture, startDhclient, startDhcp6c,
  startDhcpcd, startDnsmasq, startKea, startRadvd, stopKea, waitFor, readLog, readDnsmasqLeases,
  type KeaOptions, type RouterLab, type RadvdOptions,
} from '../lib/servers.js'
import { parsePdml } from './pdml.js'

const vectorsDir = dirname(fileURLToPath(import.meta.url))
const capturesDir = join(vectorsDir, 'captures')
const packetsFile = join(vectorsDir, 'packets.json')

interface ScenarioContext {
  lab: NetnsLab
  net: RouterLab
  /** The one client namespace/interface most scenarios use. */
  client: RouterLab['clients'][number]
  log(message: string): void
}

interface Scenario {
  id: string
  client: string
  server: string
  what: string
  clients?: number
  radvd?: RadvdOptions
  run(ctx: ScenarioContext): Promise<void>
}

const prefix64 = '2001:db8:1::'
const statefulRa: RadvdOptions = {
  managed: true, other: true, minInterval: 3, maxInterval: 4, routerLifetime: 1800,
  prefixes: [{ prefix: `${prefix64}/64`, autonomous: false, validLifetime: 86400, preferredLifetime: 14400 }],
}
const statelessRa: RadvdOptions = { ...statefulRa, managed: false, prefixes: [{ prefix: `${prefix64}/64`, autonomous: true }] }

function kea(net: RouterLab, extra: Partial<KeaOptions> = {}): KeaOptions {
  return {
    interfaces: [net.routerIf],
    subnet: net.prefix,
    pools: [`${prefix64}100-${prefix64}1ff`],
    pdPools: [{ prefix: '2001:db8:8000::', prefixLen: 48, delegatedLen: 56 }],
    renewTimer: 1000, rebindTimer: 2000, preferredLifetime: 3000, validLifetime: 4000,
    dnsServers: ['2001:db8:1::53'], domainSearch: ['lab.example'],
    serverId: { type: 'EN', enterpriseId: 2495, identifier: 'ca7ea6dbc0de' },
    ...extra,
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function waitForDhclientLease(leaseFile: string, kind: 'addresses' | 'prefixes', timeoutMs = 30000) {
  return waitFor(`a dhclient lease with ${kind} in ${leaseFile}`, () => {
    const lease = readDhclientLease(leaseFile)
    return lease[kind].length > 0 ? lease : undefined
  }, timeoutMs, 100)
}

/** Waits until the daemon's log has matched `pattern` at least `count` times. */
async function waitForLogCount(d: { name: string; logFile: string }, pattern: RegExp, count = 1, timeoutMs = 30000) {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g')
  await waitFor(`${count}× ${pattern} in ${d.name}'s log`, () => {
    const text = readFileSync(d.logFile, 'utf8')
    return (text.match(global)?.length ?? 0) >= count
  }, timeoutMs, 100)
}

const scenarios: Scenario[] = [
  {
    id: 'kea-dhclient-iana',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'IA_NA: Solicit, Advertise, Request, Reply; then Release and its Reply',
    async run({ lab, net, client, log }) {
      const server = await startKea(net.router, kea(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      const lease = await waitForDhclientLease(c.leaseFile, 'addresses')
      log(`bound ${lease.addresses.join(' ')}`)
      await releaseDhclient(c, client.ns)
      const leases = readKeaLeases(server.leaseFile)
      if (leases.current.length !== 0) throw new Error(`Kea still has leases after Release: ${JSON.stringify(leases.current)}`)
      void lab
    },
  },
]

// ---------------------------------------------------------------------------------------------

function hostStateSnapshot(): string {
  const parts: string[] = [readFileSync('/etc/resolv.conf', 'utf8')]
  for (const dir of ['/var/lib/dhcpv6', '/var/lib/dhcpcd', '/var/lib/dhcp', '/run']) {
    if (!existsSync(dir)) { parts.push(`${dir}: absent`); continue }
    const entries = readdirSync(dir).filter(e => dir !== '/run' || /dhcp|kea|radvd|dnsmasq/.test(e)).sort()
    parts.push(`${dir}: ${entries.map(e => `${e}:${statSync(join(dir, e)).mtimeMs}`).join(' ')}`)
  }
  return parts.join('\n')
}

async function runScenario(s: Scenario): Promise<void> {
  const started = Date.now()
  const log = (m: string) => process.stderr.write(`[${s.id} +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`)
  const lab = new NetnsLab()
  try {
    const net = await buildRouterLab(lab, { clients: s.clients ?? 1, prefix64 })
    const client = net.clients[0]
    if (!client) throw new Error('no client namespace')
    const tmpCapture = join(lab.dir, `${s.id}.pcapng`)
    const capture = await startCapture(net.router, net.routerIf, tmpCapture, { routerAdvertisements: true })
    await startRadvd(net.router, net.routerIf, s.radvd ?? statefulRa)
    try {
      await s.run({ lab, net, client, log })
    } catch (err) {
      process.stderr.write(`--- logs of ${s.id} in ${lab.dir}\n`)
      for (const f of readdirSync(lab.dir).filter(f => f.endsWith('.log'))) {
        process.stderr.write(`== ${f}\n${readFileSync(join(lab.dir, f), 'utf8').slice(-4000)}\n`)
      }
      throw err
    }
    await sleep(300)
    await capture.stop()
    mkdirSync(capturesDir, { recursive: true })
    const dest = join(capturesDir, `${s.id}.pcapng`)
    copyFileSync(tmpCapture, `${dest}.tmp`)
    renameSync(`${dest}.tmp`, dest)
    log(`captured ${dest} (${statSync(dest).size} bytes)`)
  } finally {
    await lab.cleanup()
  }
}

export interface VectorEntry {
  id: string
  scenario: string
  capture: string
  frame: number
  client: string
  server: string
  msgType: number
  hex: string
  tshark: Record<string, string[]>
}

export function vectorsFromCapture(s: Pick<Scenario, 'id' | 'client' | 'server'>, file: string): VectorEntry[] {
  const pdml = execFileSync('tshark', ['-r', file, '-Y', 'dhcpv6', '-T', 'pdml'], { encoding: 'utf8', maxBuffer: 256 << 20 })
  const payloads = new Map<number, string>()
  const fields = execFileSync('tshark', ['-r', file, '-Y', 'dhcpv6', '-T', 'fields', '-e', 'frame.number', '-e', 'udp.payload'], { encoding: 'utf8' })
  for (const line of fields.split('\n')) {
    const [frame, payload] = line.trim().split('\t')
    if (frame && payload) payloads.set(Number(frame), payload.replace(/:/g, '').toLowerCase())
  }
  return parsePdml(pdml).map(p => {
    const hex = payloads.get(p.frame)
    if (hex === undefined) throw new Error(`${file} frame ${p.frame}: no UDP payload`)
    if (Number.isNaN(p.msgType)) throw new Error(`${file} frame ${p.frame}: no dhcpv6.msgtype`)
    return {
      id: `${s.id}#${p.frame}`,
      scenario: s.id,
      capture: relative(vectorsDir, file),
      frame: p.frame,
      client: s.client,
      server: s.server,
      msgType: p.msgType,
      hex,
      tshark: p.dhcpv6Fields,
    }
  })
}

function writePacketsJson(): VectorEntry[] {
  const all: VectorEntry[] = []
  for (const s of scenarios) {
    const file = join(capturesDir, `${s.id}.pcapng`)
    if (existsSync(file)) all.push(...vectorsFromCapture(s, file))
  }
  writeFileSync(`${packetsFile}.tmp`, JSON.stringify(all, null, 1) + '\n')
  renameSync(`${packetsFile}.tmp`, packetsFile)
  return all
}

const messageNames = ['', 'Solicit', 'Advertise', 'Request', 'Confirm', 'Renew', 'Rebind', 'Reply', 'Release', 'Decline',
  'Reconfigure', 'Information-request', 'Relay-forw', 'Relay-repl']

function summary(all: VectorEntry[]): string {
  const byScenario = new Map<string, Map<string, number>>()
  for (const v of all) {
    const m = byScenario.get(v.scenario) ?? new Map<string, number>()
    const name = messageNames[v.msgType] ?? String(v.msgType)
    m.set(name, (m.get(name) ?? 0) + 1)
    byScenario.set(v.scenario, m)
  }
  return [...byScenario].map(([id, m]) => `${id}: ${[...m].map(([k, n]) => `${k} ${n}`).join(', ')}`).join('\n')
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args.includes('--list')) {
    for (const s of scenarios) console.log(`${s.id}\t${s.client} + ${s.server}\t${s.what}`)
    return
  }
  const wanted = args.filter(a => !a.startsWith('--'))
  for (const w of wanted) {
    if (!scenarios.some(s => s.id === w)) throw new Error(`unknown scenario '${w}'; run with --list to see them`)
  }
  if (!args.includes('--json-only')) {
    if (process.getuid?.() !== 0) throw new Error('capturing needs root (network namespaces); use --json-only to rebuild packets.json')
    const before = hostStateSnapshot()
    const failed: string[] = []
    for (const s of scenarios.filter(s => wanted.length === 0 || wanted.includes(s.id))) {
      try {
        await runScenario(s)
      } catch (err) {
        failed.push(s.id)
        process.stderr.write(`[${s.id}] FAILED: ${(err as Error).stack ?? String(err)}\n`)
      }
    }
    const after = hostStateSnapshot()
    if (before !== after) throw new Error(`the machine's DHCP/resolver state changed!\nbefore:\n${before}\nafter:\n${after}`)
    if (failed.length) process.exitCode = 1
    process.stderr.write(failed.length ? `failed scenarios: ${failed.join(' ')}\n` : 'all scenarios captured\n')
  }
  const all = writePacketsJson()
  console.log(`${relative(process.cwd(), packetsFile)}: ${all.length} packets\n${summary(all)}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch(err => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}

void readLog
void readDnsmasqLeases
void startDhcp6c
void startDhcpcd
void startDnsmasq
void stopKea
