// The real `ra6dhcp run` daemon against real radvd (M=1) + Kea across link changes and restarts:
// Confirm after `ctl ifdown`/`ifup` keeps the lease; after the router renumbers, Kea's NotOnLink
// leads to a new Solicit and an address in the new prefix; a daemon restarted on its state
// directory Confirms its stored lease instead of Soliciting, with the same DUID on the wire.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '../lib/requirements.js'
import { readKeaLeases, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType, replyTo, sequence, type CapturedPacket } from '../lib/client-lab.js'

const STATUS_SUCCESS = 0
const STATUS_NOT_ON_LINK = 4
// Long timers: nothing but the exchange under test happens during a test.
const KEA_TIMERS = { renewTimer: 1000, rebindTimer: 1600, preferredLifetime: 2000, validLifetime: 3000 }

async function bound(lab: ClientLab): Promise<string> {
  const address = (await lab.waitForLeasedAddress()).local
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  return address
}

const clientMessages = (packets: CapturedPacket[], after: number) => packets.filter(p => p.fromClient && p.time > after)

t.test('Confirm after ctl ifdown/ifup: the lease is kept (Kea answers Success) and the address is back on eth0', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  lab.startDaemon(['--sol-max-delay', '0'])
  const address = await bound(lab)
  const before = (await lab.packets()).length

  const down = lab.ctl('ifdown')
  t.equal(down.code, 0, down.stderr)
  t.match((await lab.ns.run(['ip', '-o', 'link', 'show', 'dev', lab.ifname])).stdout, /state DOWN/, 'eth0 is down')
  t.equal(lab.status().linkDown, true, 'ctl status shows the link down')
  const downAt = Date.now() / 1000
  const up = lab.ctl('ifup')
  t.equal(up.code, 0, up.stderr)

  const confirm = await lab.waitForPacket('a Confirm', p => p.fromClient && p.msgType === MessageType.Confirm, 10_000, before)
  t.ok(confirm.time > downAt, 'sent after the link came back')
  t.equal(confirm.dst, 'ff02::1:2', 'Confirm is multicast')
  t.notOk(confirm.optionCodes.includes(2), 'Confirm carries no Server ID (RFC 8415 section 18.2.3)')
  t.same(confirm.iaAddresses.map(a => a.address), [address], 'Confirm names the leased address')
  // RFC 8415 section 18.2.3: lifetimes in a Confirm are ignored by servers; the client sends 0
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_SUCCESS], 'Kea answers Success')
  const after = clientMessages(await lab.packets(), downAt)
  t.notOk(after.some(p => p.msgType === MessageType.Solicit), `no Solicit after the link change: ${sequence(after)}`)
  const back = await lab.waitForLeasedAddress(5000)
  t.equal(back.local, address, 'the same address is on eth0 again')
  t.equal(lab.status().state, 'bound', 'bound')
  t.ok(readKeaLeases(lab.kea!.leaseFile).current.some(l => l.address === address), 'Kea still holds the lease')
})

t.test('Confirm at a link down/up after the router renumbered: NotOnLink, then Solicit and a lease in the new prefix', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  lab.startDaemon(['--sol-max-delay', '0'])
  const oldAddress = await bound(lab)
  // The router renumbers the link (2001:db8:7::/64 -> 2001:db8:8::/64) while the client, with
  // long timers, does not notice; then the link goes down and up. (Kea is restarted before the
  // link goes down: it cannot open its socket on a bridge without carrier.)
  const newPrefix = '2001:db8:8::'
  await lab.net.router.run(['ip', '-6', 'addr', 'add', `${newPrefix}1/64`, 'dev', lab.net.routerIf, 'nodad'])
  await lab.restartKea({ subnet: `${newPrefix}/64`, pools: [`${newPrefix}100-${newPrefix}1ff`] })
  t.equal(lab.ctl('ifdown').code, 0, 'ifdown')
  const upAt = Date.now() / 1000
  t.equal(lab.ctl('ifup').code, 0, 'ifup')

  const confirm = await lab.waitForPacket('a Confirm', p => p.fromClient && p.msgType === MessageType.Confirm && p.time > upAt, 10_000)
  t.same(confirm.iaAddresses.map(a => a.address), [oldAddress], 'Confirm names the old address')
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_NOT_ON_LINK], 'Kea answers NotOnLink')
  const solicit = await lab.waitForPacket('a Solicit after NotOnLink', p => p.fromClient && p.msgType === MessageType.Solicit && p.time > reply.time, 10_000)
  t.notOk(solicit.iaAddresses.some(a => a.address === oldAddress), 'the Solicit does not ask for the old address')
  const renumbered = await lab.waitForLeasedAddress(15_000, newPrefix)
  t.match(renumbered.local, /^2001:db8:8::1[0-9a-f]{2}$/, `a new address from the new prefix: ${renumbered.local}`)
  t.same((await lab.leasedAddresses()).map(a => a.local), [], 'the old address is not on eth0')
  t.ok(lab.hookCalls().some(env => env.reason === 'EXPIRE6' && env.old_ip6_address === oldAddress), 'the hook was told the old address is gone (EXPIRE6)')
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  t.same(lab.status().leases.flatMap(l => l.entries.map(e => e.value)), [renumbered.local], 'ctl status shows only the new lease')
})

t.test('restart with a persisted lease: SIGTERM (no Release), a new daemon Confirms the stored lease, never Solicits; the DUID is the same on the wire and on disk', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  const first = lab.startDaemon(['--sol-max-delay', '0'])
  const address = await bound(lab)
  const duidFile = readFileSync(join(lab.stateDir, 'duid.json'), 'utf8')
  const leaseFile = JSON.parse(readFileSync(join(lab.stateDir, 'eth0.lease.json'), 'utf8')) as unknown
  t.match(JSON.stringify(leaseFile), address, 'the lease is stored in the state directory')

  t.equal(await lab.stopDaemon(), 0, 'SIGTERM: exit code 0')
  const stoppedAt = Date.now() / 1000
  t.ok(first.log().some(l => l.msg === 'stopped'), 'the first daemon logged its stop')
  t.ok(readKeaLeases(lab.kea!.leaseFile).current.some(l => l.address === address), 'no Release: Kea still holds the lease')
  t.notOk((await lab.packets()).some(p => p.msgType === MessageType.Release), 'no Release on the wire')
  t.ok(lab.hookCalls().some(env => env.reason === 'STOP6' && env.old_ip6_address === address), 'the hook ran with STOP6 and old_ip6_address')

  lab.startDaemon(['--sol-max-delay', '0'], 'ra6dhcp-2')
  const confirm = await lab.waitForPacket('a Confirm or Renew from the restarted daemon',
    p => p.fromClient && p.time > stoppedAt && p.msgType !== MessageType.Solicit, 15_000)
  const packets = await lab.packets()
  const afterRestart = clientMessages(packets, stoppedAt)
  t.equal(afterRestart[0]?.msgType, MessageType.Confirm, `the restarted daemon's first message is a Confirm: ${sequence(afterRestart)}`)
  t.same(confirm.iaAddresses.map(a => a.address), [address], 'for the stored address')
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_SUCCESS], 'Kea confirms it')
  t.equal((await lab.waitForLeasedAddress(5000)).local, address, 'the same address on eth0')
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  t.notOk(clientMessages(await lab.packets(), stoppedAt).some(p => p.msgType === MessageType.Solicit), 'no Solicit after the restart')

  const clientIds = new Set((await lab.packets()).filter(p => p.fromClient).map(p => p.clientId))
  t.equal(clientIds.size, 1, `one Client ID in every message of both daemons (${[...clientIds].join(', ')})`)
  t.equal(readFileSync(join(lab.stateDir, 'duid.json'), 'utf8'), duidFile, 'duid.json is unchanged')
  const [clientId] = [...clientIds]
  t.ok(clientId && duidFile.includes(clientId), "and it is the DUID on disk")
})
