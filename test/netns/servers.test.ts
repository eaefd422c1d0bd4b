// The real-peer fixtures of test/lib/servers.ts: radvd's RAs carry what was configured, Kea and
// dnsmasq lease an address to a real dhclient -6 (client and server agree on it), Release frees it
// on the server, and cleanup leaves no namespace or process behind.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { NetnsLab, type Daemon } from '../lib/netns.js'
import { need } from '../lib/requirements.js'
import {
  buildRouterLab, readDhclientLease, readDnsmasqLeases, readKeaLeases, releaseDhclient, startDhclient,
  startCapture, startDnsmasq, startKea, startRadvd, waitFor,
} from '../lib/servers.js'

const prefix64 = '2001:db8:1::'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** PIDs of processes with an open file under `dir` (every fixture logs into the lab directory). */
function processesHoldingFilesIn(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readdirSync(`/proc/${entry}/fd`).some(fd => {
        try { return readlinkSync(`/proc/${entry}/fd/${fd}`).startsWith(dir) } catch { return false }
      })) pids.push(Number(entry))
    } catch { /* process ended meanwhile */ }
  }
  return pids
}

async function dhclientLease(leaseFile: string) {
  return waitFor('dhclient to write a lease', () => {
    const lease = readDhclientLease(leaseFile)
    return lease.addresses.length > 0 ? lease : undefined
  }, 20000, 100)
}

t.test('radvd: the RA seen in the client namespace carries the configured flags and options', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd', 'rdisc6'] })) return
  const lab = new NetnsLab(t)
  const net = await buildRouterLab(lab, { prefix64 })
  const client = net.clients[0]!
  await startRadvd(net.router, net.routerIf, {
    managed: true, other: false, routerLifetime: 1234, minInterval: 3, maxInterval: 4,
    prefixes: [{ prefix: net.prefix, autonomous: false, validLifetime: 7200, preferredLifetime: 3600 }],
    rdnss: [{ servers: ['2001:db8:1::53'] }],
    dnssl: [{ domains: ['lab.example'] }],
  })
  const { stdout } = await client.ns.run(['rdisc6', '-1', '-n', '-w', '3000', client.ifname])
  t.match(stdout, /Stateful address conf\.\s*:\s*Yes/, 'M flag set')
  t.match(stdout, /Stateful other conf\.\s*:\s*No/, 'O flag clear')
  t.match(stdout, /Router lifetime\s*:\s*1234/, 'router lifetime')
  t.match(stdout, /Prefix\s*:\s*2001:db8:1::\/64/, 'prefix')
  t.match(stdout, /Valid time\s*:\s*7200/, 'prefix valid lifetime')
  t.match(stdout, /Pref\. time\s*:\s*3600/, 'prefix preferred lifetime')
  t.match(stdout, /Autonomous address conf\.\s*:\s*No/, 'A flag clear')
  t.match(stdout, /Recursive DNS server\s*:\s*2001:db8:1::53/, 'RDNSS')
  t.match(stdout, /DNS search list\s*:\s*lab\.example/, 'DNSSL')
})

t.test('Kea leases a pool address to dhclient -6; both lease files agree; Release frees it', async t => {
  if (!need(t, { root: true, commands: ['ip', 'kea-dhcp6', 'dhclient'] })) return
  const lab = new NetnsLab(t)
  const net = await buildRouterLab(lab, { prefix64 })
  const client = net.clients[0]!
  const kea = await startKea(net.router, {
    interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}100-${prefix64}10f`],
    renewTimer: 1000, rebindTimer: 2000, preferredLifetime: 3000, validLifetime: 4000,
  })
  const dhclient = startDhclient(client.ns, client.ifname, { mode: 'na' })
  const lease = await dhclientLease(dhclient.leaseFile)
  t.equal(lease.addresses.length, 1, 'one address in the client lease')
  const address = lease.addresses[0]!
  t.match(address, /^2001:db8:1::10[0-9a-f]$/, 'from the pool')
  t.match(lease.raw, /preferred-life 3000;/, 'preferred lifetime as configured')
  const server = readKeaLeases(kea.leaseFile).current
  t.same(server.map(l => [l.type, l.address, l.validLifetime]), [['IA_NA', address, 4000]], 'Kea has the same lease')
  const clientDuid = /option dhcp6\.client-id ([0-9a-f:]+);/.exec(lease.raw)?.[1]
  t.ok(clientDuid, 'client lease records its client id')
  const normalise = (duid: string) => duid.split(':').map(b => b.padStart(2, '0')).join(':')
  t.equal(normalise(server[0]!.duid), normalise(clientDuid!), 'same DUID on both sides')
  await releaseDhclient(dhclient, client.ns)
  await waitFor('Kea to drop the lease', () => readKeaLeases(kea.leaseFile).current.length === 0, 5000)
  t.ok(readKeaLeases(kea.leaseFile).history.some(l => l.address === address && l.validLifetime === 0), 'Release recorded as a deletion')
})

t.test('dnsmasq leases an address from its range to dhclient -6; both sides agree', async t => {
  if (!need(t, { root: true, commands: ['ip', 'dnsmasq', 'dhclient'] })) return
  const lab = new NetnsLab(t)
  const net = await buildRouterLab(lab, { prefix64 })
  const client = net.clients[0]!
  const dnsmasq = await startDnsmasq(net.router, {
    interface: net.routerIf,
    ranges: [{ mode: 'stateful', start: `${prefix64}200`, end: `${prefix64}2ff`, leaseTime: '1h' }],
  })
  const dhclient = startDhclient(client.ns, client.ifname, { mode: 'na' })
  const lease = await dhclientLease(dhclient.leaseFile)
  const address = lease.addresses[0]!
  t.match(address, /^2001:db8:1::2[0-9a-f]{2}$/, 'from the range')
  const server = await waitFor('dnsmasq to write its lease', () => {
    const { leases } = readDnsmasqLeases(dnsmasq.leaseFile)
    return leases.length > 0 ? leases : undefined
  }, 5000)
  t.same(server.map(l => l.address), [address], 'dnsmasq has the same address')
  t.match(readFileSync(dnsmasq.leaseFile, 'utf8'), /^duid /m, 'dnsmasq recorded its server DUID')
})

t.test('cleanup ends every fixture process by PID and deletes the namespaces', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd', 'kea-dhcp6', 'dumpcap'] })) return
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
  const lab = new NetnsLab()
  const daemons: Daemon[] = []
  try {
    const net = await buildRouterLab(lab, { clients: 2, prefix64 })
    daemons.push((await startCapture(net.router, net.routerIf, join(lab.dir, 'cleanup.pcapng'))).daemon)
    daemons.push(await startRadvd(net.router, net.routerIf, { managed: true }))
    daemons.push((await startKea(net.router, { interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}100-${prefix64}1ff`] })).daemon)
    for (const d of daemons) t.ok(alive(d.pid), `${d.name} running`)
  } finally {
    await lab.cleanup()
  }
  for (const d of daemons) t.notOk(alive(d.pid), `${d.name} (pid ${d.pid}) ended`)
  const lingering = processesHoldingFilesIn(lab.dir).map(pid => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)
  t.same(lingering, [], 'no process still holds a file of the lab')
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  t.notMatch(namespaces, new RegExp(lab.prefix), 'no namespace left')
  t.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the machine's resolv.conf is untouched")
})
