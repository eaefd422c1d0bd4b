// The real `ra6dhcp run` daemon against real radvd (M=1) + Kea, with the link changed from the
// router's side only (never through `ra6dhcp ctl`): the router's end of the veth goes down, so the
// client's eth0 loses its carrier (IFF_LOWER_UP and IFF_RUNNING go, operstate DOWN), then comes back. The
// daemon's link watch (rtnetlink) notices and the client Confirms its lease (RFC 8415 section
// 18.2.12); a flap within --link-debounce gives one Confirm; with --link-watch off, nothing.
import t from 'tap'
import { need } from '../lib/requirements.js'
import { readKeaLeases, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, MessageType, replyTo, sequence, type CapturedPacket, type DaemonRun } from '../lib/client-lab.js'

const STATUS_SUCCESS = 0
// Long timers: nothing but the exchange under test happens during a test.
const KEA_TIMERS = { renewTimer: 1000, rebindTimer: 1600, preferredLifetime: 2000, validLifetime: 3000 }
/** The router's end of the client's veth (test/lib/servers.ts buildRouterLab). */
const ROUTER_PORT = 'v1'

async function bound(lab: ClientLab): Promise<string> {
  const address = (await lab.waitForLeasedAddress()).local
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  return address
}

const routerPort = (lab: ClientLab, state: 'up' | 'down') => lab.net.router.run(['ip', 'link', 'set', 'dev', ROUTER_PORT, state])
const linkLines = (run: DaemonRun) => run.log().filter(l => l.link !== undefined)
const fromClientAfter = (packets: CapturedPacket[], time: number) => packets.filter(p => p.fromClient && p.time > time)
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

t.test('carrier lost and back (router side, no ctl verb): the daemon sees it and Confirms; Kea says Success; the address stays', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  const run = lab.startDaemon(['--sol-max-delay', '0'])
  const address = await bound(lab)
  t.same(linkLines(run), [], 'no link change while the lease was obtained')

  await routerPort(lab, 'down')
  const shown = (await lab.ns.run(['ip', '-d', 'link', 'show', 'dev', lab.ifname])).stdout
  t.match(shown, /<[^>]*NO-CARRIER[^>]*>/, `eth0 has no carrier: ${shown.split('\n')[0]}`)
  t.notMatch(shown, /LOWER_UP/, 'no IFF_LOWER_UP')
  t.match(shown, /<[^>]*\bUP\b[^>]*>/, 'still administratively up')
  // DOWN here, not LOWERLAYERDOWN: the kernel says LOWERLAYERDOWN only when it finds the veth peer
  // in the same namespace, and this one is in the router's.
  const operstate = /\bstate (\w+)/.exec(shown)?.[1]
  t.ok(operstate === 'DOWN' || operstate === 'LOWERLAYERDOWN', `operstate ${operstate}`)
  const down = await waitFor('the daemon\'s link-down line', () => linkLines(run).find(l => l.link === 'down'), 5000)
  t.equal(down.operstate, operstate, 'the daemon logs the operstate ip shows')
  t.same(down.flags, ['UP'], 'IFF_UP without LOWER_UP or RUNNING')
  t.equal(down.msg, `link down (operstate ${operstate}, flags UP)`)
  const during = lab.status()
  t.equal(during.state, 'idle', 'the client stops while the link is down')
  t.equal(during.counters['link.down'], 1, 'ctl status counts the change')
  t.same((await lab.leasedAddresses()).map(a => a.local), [address], 'the address stays on eth0 while the carrier is gone')

  await sleep(300)
  const upAt = Date.now() / 1000
  await routerPort(lab, 'up')
  const confirm = await lab.waitForPacket('a Confirm after the carrier came back', p => p.fromClient && p.msgType === MessageType.Confirm && p.time > upAt, 10_000)
  t.equal(confirm.dst, 'ff02::1:2', 'Confirm is multicast')
  t.same(confirm.iaAddresses.map(a => a.address), [address], 'Confirm names the leased address')
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_SUCCESS], 'Kea answers Success')
  await waitFor('the state bound', () => lab.status().state === 'bound', 5000)
  t.same((await lab.leasedAddresses()).map(a => a.local), [address], 'the same address is on eth0')
  t.ok(readKeaLeases(lab.kea!.leaseFile).current.some(l => l.address === address), 'Kea still holds the lease')

  const lines = linkLines(run)
  t.same(lines.map(l => l.link), ['down', 'up'], 'one log line per change')
  t.equal(lines[1]?.operstate, 'UP')
  const after = fromClientAfter(await lab.packets(), upAt)
  t.equal(after.filter(p => p.msgType === MessageType.Confirm).length, 1, `one Confirm: ${sequence(after)}`)
  t.notOk(after.some(p => p.msgType === MessageType.Solicit), 'no Solicit')
  const status = lab.status()
  t.equal(status.counters['link.down'], 1)
  t.equal(status.counters['link.up'], 1)
})

t.test('a flap (down, up, down, up at once) with --link-debounce 300: one down/up pair, one Confirm', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  const run = lab.startDaemon(['--sol-max-delay', '0', '--link-debounce', '300'])
  const address = await bound(lab)
  const flapAt = Date.now() / 1000
  // one iproute2 process: the four changes land within a millisecond or so
  await lab.net.router.run(['ip', '-batch', '-'], { input: ['down', 'up', 'down', 'up'].map(s => `link set dev ${ROUTER_PORT} ${s}`).join('\n') + '\n' })
  const confirm = await lab.waitForPacket('a Confirm after the flap', p => p.fromClient && p.msgType === MessageType.Confirm && p.time > flapAt, 10_000)
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_SUCCESS], 'Kea answers Success')
  // a second Confirm would come within CNF_MAX_DELAY (1 s) of a second link-up
  await sleep(1500)
  const after = fromClientAfter(await lab.packets(), flapAt)
  t.equal(after.filter(p => p.msgType === MessageType.Confirm).length, 1, `one Confirm for the flap: ${sequence(after)}`)
  const lines = linkLines(run)
  t.same(lines.map(l => `${String(l.link)}${l.collapsed ? ' (flap)' : ''}`), ['down (flap)', 'up (flap)'], 'one down/up pair, marked as a flap')
  t.equal(lab.status().state, 'bound')
  t.same((await lab.leasedAddresses()).map(a => a.local), [address])
})

t.test('--link-watch off: the same carrier loss and return is not noticed; no Confirm', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  const run = lab.startDaemon(['--sol-max-delay', '0', '--link-watch', 'off'])
  await bound(lab)
  const downAt = Date.now() / 1000
  await routerPort(lab, 'down')
  t.match((await lab.ns.run(['ip', '-o', 'link', 'show', 'dev', lab.ifname])).stdout, /NO-CARRIER/, 'eth0 lost its carrier')
  await sleep(500)
  await routerPort(lab, 'up')
  // with the watch on, the Confirm leaves within CNF_MAX_DELAY (1 s) of the link coming back
  await sleep(2500)
  const after = fromClientAfter(await lab.packets(), downAt)
  t.same(after.map(p => p.msgType), [], `nothing sent: ${sequence(after)}`)
  t.same(linkLines(run), [], 'no link line in the log')
  const status = lab.status()
  t.equal(status.state, 'bound', 'the client never heard of it')
  t.equal(status.counters['link.down'], undefined, 'no link counters without the watch')
})

t.test('ctl ifdown / ifup with the watch on: the verb and the watch together give one down, one up, one Confirm', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const lab = await ClientLab.create(t, { kea: KEA_TIMERS })
  const run = lab.startDaemon(['--sol-max-delay', '0'])
  const address = await bound(lab)
  const down = lab.ctl('ifdown')
  t.equal(down.code, 0, down.stderr)
  t.match(down.stdout, /^eth0: ifdown -> idle$/m, 'the client was told by the time the verb answered')
  const downAt = Date.now() / 1000
  const up = lab.ctl('ifup')
  t.equal(up.code, 0, up.stderr)
  t.match(up.stdout, /^eth0: ifup -> confirming$/m, 'ifup answers once the watch saw the link usable')
  const confirm = await lab.waitForPacket('a Confirm after ctl ifup', p => p.fromClient && p.msgType === MessageType.Confirm && p.time > downAt, 10_000)
  const reply = await waitFor('the Reply to the Confirm', async () => replyTo(await lab.packets(), confirm), 5000)
  t.same(reply.statusCodes, [STATUS_SUCCESS], 'Kea answers Success')
  await lab.waitForLeasedAddress(5000)
  await sleep(1500)
  const after = fromClientAfter(await lab.packets(), downAt)
  t.equal(after.filter(p => p.msgType === MessageType.Confirm).length, 1, `one Confirm: ${sequence(after)}`)
  t.same(linkLines(run).map(l => `${String(l.link)} ${String(l.operstate)}`), ['down DOWN', 'up UP'], 'the watch logged the verb\'s changes once each')
  t.same((await lab.leasedAddresses()).map(a => a.local), [address], 'the address is back on eth0 (ip link set down removed it)')
  t.equal(lab.status().state, 'bound')
})
