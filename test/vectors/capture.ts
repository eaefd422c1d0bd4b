// Captures real DHCPv6 exchanges between real peers in network namespaces and writes
// test/vectors/captures/<scenario>.pcapng and test/vectors/packets.json (see README.md here).
//
//   node --import @tapjs/typescript/import test/vectors/capture.ts [--list] [--json-only] [scenario...]
//
// Runs as root. Each scenario builds its own lab (router namespace with radvd and a server, client
// namespaces on a bridge), captures on the router's link, and cleans up. packets.json is rebuilt
// from every committed capture of a known scenario, so running one scenario keeps the others.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, copyFileSync, statSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetnsLab, type Namespace } from '../lib/netns.js'
import {
  buildRouterLab, readDhclientLease, readKeaLeases, releaseDhclient, startCapture, startDhclient, startDhcp6c,
  startDhcpcd, startDnsmasq, startKea, startRadvd, stopKea, waitFor, readDnsmasqLeases,
  type DhclientClient, type DnsmasqOptions, type KeaLease, type KeaOptions, type RouterLab, type RadvdOptions,
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

/** Runs `dhclient -6 -x` (stop without Release) with the client's own files. */
async function stopDhclientKeepingLease(c: DhclientClient, ns: Namespace): Promise<void> {
  const [cmd, ...rest] = c.argv
  await ns.run([cmd ?? 'dhclient', '-x', ...rest])
  await Promise.race([c.daemon.exited, sleep(3000)])
}

async function waitForKeaLeases(leaseFile: string, types: Array<KeaLease['type']>, timeoutMs = 30000): Promise<KeaLease[]> {
  const leases = await waitFor(`Kea leases of types ${types.join(',')} in ${leaseFile}`, () => {
    const { current } = readKeaLeases(leaseFile)
    return types.every(t => current.some(l => l.type === t)) ? current : undefined
  }, timeoutMs, 100)
  await sleep(500) // the lease is written before the Reply goes out
  return leases
}

const scenarios: Scenario[] = [
  {
    id: 'kea-dhclient-iana',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'IA_NA: Solicit, Advertise, Request, Reply; then Release and its Reply',
    async run({ net, client, log }) {
      const server = await startKea(net.router, kea(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      const lease = await waitForDhclientLease(c.leaseFile, 'addresses')
      log(`bound ${lease.addresses.join(' ')}`)
      await releaseDhclient(c, client.ns)
      const leases = readKeaLeases(server.leaseFile)
      if (leases.current.length !== 0) throw new Error(`Kea still has leases after Release: ${JSON.stringify(leases.current)}`)
    },
  },
  {
    id: 'kea-dhclient-iapd',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'IA_PD (-P): Solicit, Advertise, Request, Reply with a /56; then Release',
    async run({ net, client, log }) {
      await startKea(net.router, kea(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'pd' })
      const lease = await waitForDhclientLease(c.leaseFile, 'prefixes')
      log(`delegated ${lease.prefixes.join(' ')}`)
      await releaseDhclient(c, client.ns)
    },
  },
  {
    id: 'kea-dhclient-na-pd',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'IA_NA and IA_PD in one exchange (-N -P)',
    async run({ net, client, log }) {
      await startKea(net.router, kea(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na+pd' })
      await waitForDhclientLease(c.leaseFile, 'prefixes')
      const lease = await waitForDhclientLease(c.leaseFile, 'addresses')
      log(`bound ${lease.addresses.join(' ')} ${lease.prefixes.join(' ')}`)
    },
  },
  {
    id: 'kea-dhclient-inforeq',
    client: 'dhclient', server: 'kea', radvd: statelessRa,
    what: 'stateless (-S): Information-request and Reply with DNS servers and search list',
    async run({ net, client }) {
      await startKea(net.router, kea(net, { pools: [], pdPools: [] }))
      const c = startDhclient(client.ns, client.ifname, { mode: 'stateless' })
      await waitForLogCount(c.daemon, /RCV: Reply message/, 1)
    },
  },
  {
    id: 'kea-dhclient-renew-rebind',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'T1 3 s, T2 6 s: Renew answered; Kea stopped so the next Renew goes unanswered; Kea restarted (same leases) before T2; Rebind answered',
    async run({ net, client, log }) {
      const options = kea(net, { renewTimer: 3, rebindTimer: 6, preferredLifetime: 20, validLifetime: 30 })
      let server = await startKea(net.router, options)
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(c.leaseFile, 'addresses')
      await waitForLogCount(c.daemon, /XMT: Renew on/, 1)
      await waitForLogCount(c.daemon, /RCV: Reply message/, 2)
      log('first Renew answered; stopping Kea')
      await stopKea(server)
      await waitForLogCount(c.daemon, /XMT: Renew on/, 2)
      log('second Renew sent to a stopped server; restarting Kea')
      server = await startKea(net.router, options)
      await waitForLogCount(c.daemon, /XMT: Rebind on/, 1, 20000)
      await waitForLogCount(c.daemon, /RCV: Reply message/, 3)
      log('Rebind answered')
      await sleep(300)
    },
  },
  {
    id: 'kea-dhclient-noaddrsavail',
    client: 'dhclient', server: 'kea', radvd: statefulRa, clients: 2,
    what: 'a pool of one address: the first client binds it, the second gets NoAddrsAvail',
    async run({ net, log }) {
      const [first, second] = net.clients
      if (!first || !second) throw new Error('two clients needed')
      await startKea(net.router, kea(net, { pools: [`${prefix64}100-${prefix64}100`], pdPools: [] }))
      const c1 = startDhclient(first.ns, first.ifname, { mode: 'na', name: 'dhclient1' })
      await waitForDhclientLease(c1.leaseFile, 'addresses')
      const c2 = startDhclient(second.ns, second.ifname, { mode: 'na', name: 'dhclient2' })
      await waitForLogCount(c2.daemon, /RCV: Advertise message/, 2)
      log(`second client: ${/Status code of [^\n]*/.exec(readFileSync(c2.daemon.logFile, 'utf8'))?.[0] ?? '?'}`)
    },
  },
  {
    id: 'kea-dhclient-nobinding',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'Kea restarted with an empty lease database: the client\'s Release gets NoBinding',
    async run({ net, client }) {
      const options = kea(net)
      let server = await startKea(net.router, options)
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(c.leaseFile, 'addresses')
      await stopKea(server)
      rmSync(server.leaseFile)
      server = await startKea(net.router, options)
      await releaseDhclient(c, client.ns)
    },
  },
  {
    id: 'kea-dhclient-notonlink',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'the link is renumbered while the client is down: its Confirm of the old address gets NotOnLink',
    async run({ net, client, log }) {
      let server = await startKea(net.router, kea(net))
      const first = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(first.leaseFile, 'addresses')
      await stopDhclientKeepingLease(first, client.ns)
      await stopKea(server)
      const renumbered = '2001:db8:2::'
      await net.router.run(['ip', '-6', 'addr', 'add', `${renumbered}1/64`, 'dev', net.routerIf, 'nodad'])
      server = await startKea(net.router, kea(net, { subnet: `${renumbered}/64`, pools: [`${renumbered}100-${renumbered}1ff`], pdPools: [], subnetId: 2 }))
      const again = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForLogCount(again.daemon, /XMT: Confirm on/, 1)
      await waitForLogCount(again.daemon, /RCV: Reply message/, 1)
      log(`after Confirm: ${/Status code[^\n]*/i.exec(readFileSync(again.daemon.logFile, 'utf8'))?.[0] ?? '?'}`)
      await waitForDhclientLease(again.leaseFile, 'addresses').catch(() => undefined)
      void server
    },
  },
  {
    id: 'kea-dhclient-decline',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'the hook script reports the address as a duplicate (exit 3 on BOUND6): Decline and its Reply',
    async run({ net, client }) {
      await startKea(net.router, kea(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na', declineOnBound: true })
      await waitForLogCount(c.daemon, /XMT: Decline on/, 1)
      await waitForLogCount(c.daemon, /RCV: Reply message/, 2)
    },
  },
  {
    id: 'kea-dhclient-rapid-commit',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'Rapid Commit: Solicit with option 14 answered by a Reply',
    async run({ net, client }) {
      await startKea(net.router, kea(net, { rapidCommit: true }))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na', config: ['send dhcp6.rapid-commit;'] })
      await waitForDhclientLease(c.leaseFile, 'addresses')
    },
  },
  {
    id: 'kea-dhclient-unicast',
    client: 'dhclient', server: 'kea', radvd: statefulRa,
    what: 'Kea sends Server Unicast (option 12); the client unicasts its Renew',
    async run({ net, client }) {
      await startKea(net.router, kea(net, { unicastAddress: net.routerAddress, renewTimer: 3, rebindTimer: 20, preferredLifetime: 30, validLifetime: 40 }))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(c.leaseFile, 'addresses')
      await waitForLogCount(c.daemon, /XMT: Renew on/, 1)
      await waitForLogCount(c.daemon, /RCV: Reply message/, 2)
    },
  },
  {
    id: 'dnsmasq-dhclient-server-change',
    client: 'dhclient', server: 'kea+dnsmasq', radvd: statefulRa,
    what: 'bound by Kea (with Server Unicast), Kea replaced by dnsmasq: the unicast Renew to the gone server is unanswered, dnsmasq answers the Rebind for the same address',
    async run({ net, client }) {
      const server = await startKea(net.router, kea(net, { unicastAddress: net.routerAddress, renewTimer: 3, rebindTimer: 8, preferredLifetime: 30, validLifetime: 40 }))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(c.leaseFile, 'addresses')
      await stopKea(server)
      await startDnsmasq(net.router, dnsmasq(net))
      await waitForLogCount(c.daemon, /XMT: Rebind on/, 1, 20000)
      await waitForLogCount(c.daemon, /RCV: Reply message/, 2)
    },
  },
  {
    id: 'dnsmasq-dhclient-iana',
    client: 'dhclient', server: 'dnsmasq', radvd: statefulRa,
    what: 'IA_NA from dnsmasq; then Release',
    async run({ net, client }) {
      const server = await startDnsmasq(net.router, dnsmasq(net))
      const c = startDhclient(client.ns, client.ifname, { mode: 'na' })
      await waitForDhclientLease(c.leaseFile, 'addresses')
      await waitFor('dnsmasq lease', () => readDnsmasqLeases(server.leaseFile).leases.length > 0)
      await releaseDhclient(c, client.ns)
    },
  },
  {
    id: 'dnsmasq-dhclient-inforeq',
    client: 'dhclient', server: 'dnsmasq', radvd: statelessRa,
    what: 'stateless Information-request answered by dnsmasq',
    async run({ net, client }) {
      await startDnsmasq(net.router, { ...dnsmasq(net), ranges: [{ mode: 'stateless', start: prefix64 }] })
      const c = startDhclient(client.ns, client.ifname, { mode: 'stateless' })
      await waitForLogCount(c.daemon, /RCV: Reply message/, 1)
    },
  },
  {
    id: 'dnsmasq-dhcpcd-iana',
    client: 'dhcpcd', server: 'dnsmasq', radvd: statefulRa,
    what: 'dhcpcd starts DHCPv6 from the RA (M=1) and gets an IA_NA from dnsmasq',
    async run({ net, client }) {
      const server = await startDnsmasq(net.router, dnsmasq(net))
      startDhcpcd(client.ns, client.ifname, { ia: ['na'] })
      await waitFor('dnsmasq lease', () => readDnsmasqLeases(server.leaseFile).leases.length > 0, 30000)
      await sleep(500)
    },
  },
  {
    id: 'kea-dhcp6c-na-pd',
    client: 'dhcp6c', server: 'kea', radvd: statefulRa,
    what: 'WIDE dhcp6c with IA_NA and IA_PD; it Releases both on SIGTERM',
    async run({ lab, net, client }) {
      const server = await startKea(net.router, kea(net))
      const c = startDhcp6c(client.ns, client.ifname, { ia: ['na', 'pd'] })
      await waitForKeaLeases(server.leaseFile, ['IA_NA', 'IA_PD'])
      await lab.stop(c.daemon, 8000)
      await waitFor('Kea to drop the released leases', () => readKeaLeases(server.leaseFile).current.length === 0, 5000).catch(() => undefined)
    },
  },
  {
    id: 'kea-dhcp6c-rapid-commit',
    client: 'dhcp6c', server: 'kea', radvd: statefulRa,
    what: 'WIDE dhcp6c `send rapid-commit;`: Solicit answered by a Reply',
    async run({ net, client }) {
      const server = await startKea(net.router, kea(net, { rapidCommit: true }))
      startDhcp6c(client.ns, client.ifname, { ia: ['na'], rapidCommit: true })
      await waitForKeaLeases(server.leaseFile, ['IA_NA'])
    },
  },
  {
    id: 'kea-dhcp6c-inforeq',
    client: 'dhcp6c', server: 'kea', radvd: statelessRa,
    what: 'WIDE dhcp6c information-only',
    async run({ net, client }) {
      await startKea(net.router, kea(net, { pools: [], pdPools: [] }))
      const c = startDhcp6c(client.ns, client.ifname, { stateless: true })
      await waitForLogCount(c.daemon, /client6_recvreply: got an expected reply/, 1)
      await sleep(300)
    },
  },
  {
    id: 'kea-dhcpcd-na-pd',
    client: 'dhcpcd', server: 'kea', radvd: statefulRa,
    what: 'dhcpcd starts DHCPv6 from the RA (M=1) with IA_NA and IA_PD',
    async run({ net, client }) {
      const server = await startKea(net.router, kea(net))
      startDhcpcd(client.ns, client.ifname, { ia: ['na', 'pd'] })
      await waitForKeaLeases(server.leaseFile, ['IA_NA', 'IA_PD'])
    },
  },
  {
    id: 'kea-dhcpcd-rapid-commit',
    client: 'dhcpcd', server: 'kea', radvd: statefulRa,
    what: 'dhcpcd `option rapid_commit` with Kea rapid-commit: Solicit answered by a Reply',
    async run({ net, client }) {
      const server = await startKea(net.router, kea(net, { rapidCommit: true }))
      startDhcpcd(client.ns, client.ifname, { ia: ['na'], rapidCommit: true })
      await waitForKeaLeases(server.leaseFile, ['IA_NA'])
    },
  },
]

function dnsmasq(net: RouterLab): DnsmasqOptions {
  return {
    interface: net.routerIf,
    ranges: [{ mode: 'stateful', start: `${prefix64}200`, end: `${prefix64}2ff`, leaseTime: '1h' }],
    dnsServers: ['2001:db8:1::53'], domainSearch: ['lab.example'],
  }
}

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

