// `ra6dhcp run eth0` as a user runs it, in a client namespace on a link with real radvd (M=1)
// and real Kea: it gets a lease (on the interface and in Kea's lease file), renews it at T1,
// answers `ra6dhcp ctl status`, releases it on `ra6dhcp ctl release`, and stops on SIGTERM.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { need } from '../lib/requirements.js'
import { NetnsLab } from '../lib/netns.js'
import { buildRouterLab, readKeaLeases, readLog, signalAndWait, startKea, startRadvd, waitFor } from '../lib/servers.js'

const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

function ctl(socket: string, ...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'ctl', '--socket', socket, ...argv], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function logLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
}

t.test('ra6dhcp run: RA -> Solicit -> lease on eth0 and in Kea, Renew at T1, ctl status, ctl release, SIGTERM', async t => {
  if (!need(t, { root: true, commands: ['ip', 'radvd', 'kea-dhcp6', 'rdisc6'], files: [cli] })) return
  const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
  const lab = new NetnsLab(t)
  const prefix64 = '2001:db8:5a::'
  const net = await buildRouterLab(lab, { prefix64 })
  const client = net.clients[0]!
  const kea = await startKea(net.router, {
    interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}100-${prefix64}1ff`],
    renewTimer: 4, rebindTimer: 6, preferredLifetime: 20, validLifetime: 30, dnsServers: [`${prefix64}53`],
  })
  // The RA comes first, as in a Ready Logo lab: the daemon must learn the M flag at start.
  await startRadvd(net.router, net.routerIf, { managed: true, minInterval: 3, maxInterval: 4 })
  const state = join(lab.dir, 'ra6dhcp-state')
  const socket = join(lab.dir, 'ra6dhcp.sock')
  const daemon = client.ns.spawn('ra6dhcp', [
    process.execPath, cli, 'run', client.ifname, '--ra-source', 'rtnetlink', '--state-dir', state,
    '--control-socket', socket, '--sol-max-delay', '0', '--log-format', 'json', '--log-level', 'debug',
  ])

  const address = await waitFor('the leased address on eth0', async () => {
    const { stdout } = await client.ns.run(['ip', '-j', '-6', 'addr', 'show', 'dev', client.ifname])
    const info = (JSON.parse(stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []
    return info.find(a => a.local.startsWith(prefix64.slice(0, -1)) && a.prefixlen === 128)?.local
  }, 30_000)
  t.match(address, /^2001:db8:5a::1[0-9a-f]{2}$/, `a /128 from Kea's pool on eth0: ${address}`)
  const duid = readFileSync(join(state, 'duid.json'), 'utf8')
  const leased = readKeaLeases(kea.leaseFile).current.find(l => l.address === address)
  t.ok(leased, 'Kea has the lease')
  t.ok(leased && duid.includes(leased.duid.replace(/:/g, '')), "for the daemon's DUID")

  const log = () => logLines(readLog(daemon))
  const sent = (type: string) => log().filter(l => l.msg === `sent ${type}` || (typeof l.msg === 'string' && l.msg.startsWith(`sent ${type} (`)))
  t.ok(log().some(l => l.msg === 'RA accepted by the kernel' && l.M === true), 'the RA was logged')
  t.match(sent('Solicit')[0], { interface: 'eth0', elapsed: '0.00s', retransmission: false, to: 'ff02::1:2' }, 'the first Solicit, Elapsed Time 0')
  t.ok(sent('Request').length > 0 && log().some(l => l.msg === 'received Reply'), 'Request and Reply logged')

  const status = ctl(socket, 'status', '--json')
  t.equal(status.code, 0, status.stderr)
  const report = JSON.parse(status.stdout).status.interfaces[0]
  t.equal(report.state, 'bound')
  t.equal(report.leases[0].entries[0].value, address)
  t.ok(report.leases[0].entries[0].validLeft <= 30)
  t.same(report.dnsServers, [`${prefix64}53`])
  t.equal(JSON.parse(status.stdout).status.raSource, 'rtnetlink')
  const table = ctl(socket, 'status')
  t.match(table.stdout, new RegExp(`eth0: bound .*\\n(.*\\n)*  IA_NA +\\d+ +4 +6 +${address.replace(/:/g, ':')} `), 'the human table shows the lease')

  await waitFor('a Renew at T1 and its Reply', async () => sent('Renew').length > 0 && log().filter(l => l.msg === 'received Reply').length >= 2, 20_000)
  t.pass('renewed at T1')

  const released = ctl(socket, 'release')
  t.equal(released.code, 0, released.stderr)
  t.match(released.stdout, /^eth0: release -> /)
  await waitFor('Kea to free the lease', async () => !readKeaLeases(kea.leaseFile).current.some(l => l.address === address), 15_000)
  t.pass('Kea no longer holds the lease')
  const { stdout: after } = await client.ns.run(['ip', '-6', 'addr', 'show', 'dev', client.ifname])
  t.notMatch(after, address, 'the address is gone from eth0')

  t.equal(await signalAndWait(daemon, 'SIGTERM'), 0, 'SIGTERM stops the daemon with exit code 0')
  t.ok(log().some(l => l.msg === 'stopped'))
  t.equal(ctl(socket, 'status').code, 1, 'ctl then says no daemon')
  t.equal(readFileSync('/etc/resolv.conf', 'utf8'), hostResolv, "the machine's resolv.conf is untouched")
})
