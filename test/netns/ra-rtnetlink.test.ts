// The rtnetlink RA source with real radvd, on the build machine (no module): `ra6dhcp monitor
// --source rtnetlink` runs inside the client namespace (netlink is per namespace) and must report
// what the kernel accepted: M/O flags, prefix, RDNSS, DNSSL; the state at start; and its gap.
import t from 'tap'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetnsLab, type Daemon, type Namespace } from '../lib/netns.js'
import { need } from '../lib/requirements.js'
import { readLog, startRadvd, waitFor } from '../lib/servers.js'

const repo = resolve(fileURLToPath(import.meta.url), '../../..')
const cli = join(repo, 'dist/src/cli/main.js')
const addon = join(repo, 'build/Release/ra6mon.node')

interface JsonEvent {
  source: string
  ifname: string
  router?: string
  flags: { managed: boolean; other: boolean; preference?: string }
  routerLifetime?: number
  options: Array<Record<string, unknown>>
  replayed: boolean
}

function events(monitor: Daemon): JsonEvent[] {
  return readLog(monitor).split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as JsonEvent)
}

function startMonitor(ns: Namespace, name: string, extra: string[] = []): Daemon {
  return ns.spawn(name, ['/usr/bin/node', cli, 'monitor', '--source', 'rtnetlink', '--json', ...extra], {
    env: { ...process.env, NO_COLOR: '1' },
  })
}

async function waitForEvent(monitor: Daemon, what: string, match: (e: JsonEvent) => boolean, timeoutMs = 15000): Promise<JsonEvent> {
  return waitFor(what, () => events(monitor).find(match), timeoutMs).catch(err => {
    throw new Error(`${(err as Error).message}; monitor output:\n${readLog(monitor)}`)
  })
}

/** The monitor says on stderr when it is listening; RAs sent before that would be replays. */
async function waitForReady(monitor: Daemon): Promise<void> {
  await waitFor(`${monitor.name} to listen`, () => {
    if (monitor.process.exitCode !== null) throw new Error(`${monitor.name} exited: ${readLog(monitor)}`)
    return /ra6dhcp: monitoring /.test(readLog(monitor))
  }, 10000)
}

t.test('ra6dhcp monitor --source rtnetlink reports radvd RAs in a namespace', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd', 'rdisc6'], files: [cli, addon] })) return
  const lab = new NetnsLab(t)
  const router = await lab.addNamespace('r')
  const client = await lab.addNamespace('c')
  await lab.link(router, 'rt0', client, 'eth0')
  const routerLinkLocal = await lab.waitForLinkLocal(router, 'rt0')

  // The monitor starts before any RA: nothing to replay, then radvd's first RA.
  const monitor = startMonitor(client, 'monitor1')
  await waitForReady(monitor)
  const radvd = await startRadvd(router, 'rt0', {
    managed: true, other: true, routerLifetime: 1800,
    prefixes: [{ prefix: '2001:db8:1::/64', validLifetime: 86400, preferredLifetime: 14400 }],
    rdnss: [{ servers: ['2001:db8::53', '2001:db8::54'], lifetime: 600 }],
    dnssl: [{ domains: ['example.com', 'lab.example.org'], lifetime: 600 }],
  })
  const first = await waitForEvent(monitor, 'the first RA', e => !e.replayed)
  t.match(first, { source: 'rtnetlink', ifname: 'eth0', router: routerLinkLocal, flags: { managed: true, other: true } })
  t.equal(first.routerLifetime, undefined, 'rtnetlink does not know the router lifetime: absent, not 0')
  t.same(first.options, [
    { kind: 'prefixInformation', prefix: '2001:db8:1::', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetime: 86400, preferredLifetime: 14400 },
    { kind: 'rdnss', lifetime: 600, servers: ['2001:db8::53', '2001:db8::54'] },
    { kind: 'dnssl', lifetime: 600, domains: ['example.com', 'lab.example.org'] },
  ], 'one event holds all of the RA\'s user options, in order')
  t.equal(events(monitor).filter(e => e.replayed).length, 0, 'nothing replayed: no RA before the monitor started')

  // A second monitor started now learns the current M/O state at start (the Ready Logo case).
  const late = startMonitor(client, 'monitor2')
  const replayed = await waitForEvent(late, 'the replayed state', e => e.replayed)
  t.match(replayed, { ifname: 'eth0', flags: { managed: true, other: true }, options: [] })

  // Flags change: the router becomes stateless (M=0, O=1).
  await lab.stop(radvd)
  await startRadvd(router, 'rt0', {
    name: 'radvd-stateless', managed: false, other: true,
    prefixes: [{ prefix: '2001:db8:1::/64' }],
  })
  const stateless = await waitForEvent(monitor, 'the M=0 O=1 RA', e => !e.flags.managed && e.flags.other)
  t.equal(stateless.router, routerLinkLocal)
  t.match(stateless.options, [{ kind: 'prefixInformation', prefix: '2001:db8:1::' }])
  for (const m of [monitor, late]) await lab.stop(m)
})

t.test('the documented gap: an RA without user options and with unchanged flags is not seen', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd', 'rdisc6'], files: [cli, addon] })) return
  const lab = new NetnsLab(t)
  const router = await lab.addNamespace('r')
  const client = await lab.addNamespace('c')
  await lab.link(router, 'rt0', client, 'eth0')
  // M=1 and no prefix/RDNSS/DNSSL: the first RA changes the flags (seen), the next ones do not.
  await startRadvd(router, 'rt0', { managed: true })
  const monitor = startMonitor(client, 'monitor')
  const first = await waitForEvent(monitor, 'the first RA (or its replay)', e => e.flags.managed)
  t.same(first.options, [])
  const seen = events(monitor).length
  // Ask for more RAs: rdisc6 waits for radvd's answer, so the kernel has accepted one more RA.
  const answer = await client.run(['rdisc6', '-1', '-w', '3000', 'eth0'])
  t.match(answer.stdout, /Stateful address conf\.\s*:\s*Yes/, 'radvd answered the solicitation')
  await new Promise(r => setTimeout(r, 300))
  t.equal(events(monitor).length, seen, 'no event for an RA the kernel accepted: the rtnetlink gap ra6mon closes')
  await lab.stop(monitor)
})

t.test('text output is radvd.conf-like and --count ends the monitor', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd'], files: [cli, addon] })) return
  const lab = new NetnsLab(t)
  const router = await lab.addNamespace('r')
  const client = await lab.addNamespace('c')
  await lab.link(router, 'rt0', client, 'eth0')
  const monitor = client.spawn('monitor', ['/usr/bin/node', cli, 'monitor', '--source', 'rtnetlink', '--interface', 'eth0', '--count', '1'])
  await waitForReady(monitor)
  await startRadvd(router, 'rt0', { other: true, prefixes: [{ prefix: '2001:db8:7::/64' }], rdnss: [{ servers: ['2001:db8::53'] }] })
  const code = await Promise.race([monitor.exited, new Promise(r => setTimeout(() => r('timeout'), 15000))])
  const out = readLog(monitor)
  t.equal(code, 0, `monitor exited by itself after one RA (output:\n${out})`)
  t.match(out, /accepted RA on eth0 \(ifindex \d+\) from fe80::[0-9a-f:]+ via rtnetlink/)
  t.match(out, /interface eth0\n\{\n\tAdvManagedFlag off;\n\tAdvOtherConfigFlag on;/)
  t.match(out, /\tprefix 2001:db8:7::\/64\n\t\{\n\t\tAdvValidLifetime 86400;/)
  t.match(out, /\tRDNSS 2001:db8::53\n/)
  t.notMatch(out, /AdvCurHopLimit/, 'no invented values for what rtnetlink cannot know')
})
