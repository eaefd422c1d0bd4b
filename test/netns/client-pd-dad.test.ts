// The real `ra6dhcp run` against real radvd + Kea: a /64 of the delegated prefix on a downstream
// interface (--pd-downstream), and a Decline after the kernel's DAD finds the leased address on
// another host of the link. Judged by `ip -j`, Kea's lease file, the hook, `ctl status` and the
// captured packets (decoded by tshark).
import t from 'tap'
import { need } from '../lib/requirements.js'
import { readKeaLeases, waitFor } from '../lib/servers.js'
import { ClientLab, CLIENT_LAB_NEEDS, interfaceAddresses, MessageType, replyTo, sequence } from '../lib/client-lab.js'

/** The eight hextets of an IPv6 address, as numbers (independent of the daemon's own arithmetic). */
function hextets(address: string): number[] {
  const [head = '', tail = ''] = address.split('::')
  const h = head === '' ? [] : head.split(':')
  const tl = address.includes('::') && tail !== '' ? tail.split(':') : []
  return [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl].map(g => parseInt(g, 16))
}

t.test('IA_PD from Kea with --pd-downstream lan0:1: lan0 gets the second /64\'s ::1 with the prefix\'s lifetimes; ctl release removes it', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const PREFERRED = 200, VALID = 300
  const lab = await ClientLab.create(t, {
    kea: { renewTimer: 100, rebindTimer: 160, preferredLifetime: PREFERRED, validLifetime: VALID, pdPools: [{ prefix: '2001:db8:80::', prefixLen: 48, delegatedLen: 56 }] },
  })
  // the downstream side: a veth pair inside the client namespace (this kernel has no dummy driver)
  await lab.ns.run(['ip', 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0p'])
  await lab.ns.run(['ip', 'link', 'set', 'lan0', 'up'])
  await lab.ns.run(['ip', 'link', 'set', 'lan0p', 'up'])
  const run = lab.startDaemon(['--sol-max-delay', '0', '--ia-na', '0', '--ia-pd', '1/56', '--pd-downstream', 'lan0:1'])

  const { reply } = await waitFor('the Request and Kea\'s Reply in the capture', async () => {
    lab.assertDaemonRunning()
    const packets = await lab.packets()
    const request = packets.find(p => p.fromClient && p.msgType === MessageType.Request)
    const reply = request && replyTo(packets, request)
    return reply && reply.iaPrefixes.length > 0 && { reply }
  }, 20_000)
  const delegated = reply.iaPrefixes[0]!.prefix
  t.match(delegated, /\/56$/, `Kea delegates a /56: ${delegated}`)
  const groups = hextets(delegated.split('/')[0]!)
  groups[3] = groups[3]! | 1 // the second /64 of a /56: the low byte of the fourth hextet
  const expected = `${groups.slice(0, 4).map(g => g.toString(16)).join(':')}::1`

  const global = async () => (await interfaceAddresses(lab.ns, 'lan0')).filter(a => a.scope === 'global')
  const [onLan] = await waitFor('a global address on lan0', async () => { lab.assertDaemonRunning(); const a = await global(); return a.length > 0 && a }, 10_000)
  const age = Date.now() / 1000 - reply.time
  t.equal(onLan?.local, expected, `lan0 has ${expected}, the ::1 of /64 number 1 of ${delegated}`)
  t.equal(onLan?.prefixlen, 64, 'as a /64 (an on-link prefix for the LAN)')
  t.equal(onLan?.dynamic, true, 'with lifetimes, not permanent')
  t.ok(onLan && onLan.valid_life_time <= VALID && onLan.valid_life_time >= VALID - Math.ceil(age) - 1, `valid_lft ${onLan?.valid_life_time} s is the prefix's ${VALID} s less ${age.toFixed(1)} s`)
  t.ok(onLan && onLan.preferred_life_time <= PREFERRED && onLan.preferred_life_time >= PREFERRED - Math.ceil(age) - 1, `preferred_lft ${onLan?.preferred_life_time} s is the prefix's ${PREFERRED} s less ${age.toFixed(1)} s`)
  t.same((await lab.addresses()).filter(a => a.scope === 'global').map(a => a.local), [], 'nothing global on eth0 (no IA_NA asked, no SLAAC)')

  const status = lab.status()
  t.match(status.downstream, { interface: 'lan0', address: expected, prefixLength: 64, subnetIndex: 1, delegatedPrefix: delegated },
    'ctl status --json shows the downstream /64')
  // as applied: what was left of Kea's lifetimes when the Reply was handled (whole seconds)
  const shown = status.downstream
  t.ok(shown && shown.validLifetime >= VALID - 1 && shown.validLifetime <= VALID && shown.preferredLifetime >= PREFERRED - 1 && shown.preferredLifetime <= PREFERRED,
    `with the lifetimes applied (${shown?.preferredLifetime}/${shown?.validLifetime} s of Kea's ${PREFERRED}/${VALID} s)`)
  t.ok(shown && shown.validLeft <= shown.validLifetime && shown.validLeft >= VALID - Math.ceil(Date.now() / 1000 - reply.time) - 1, `and the valid time left (${shown?.validLeft} s)`)
  const table = lab.ctl('status')
  t.match(table.stdout, new RegExp(`downstream lan0 ${expected.replace(/[.:]/g, '\\$&')}/64 \\(/64 number 1 of ${delegated.replace(/[.:/]/g, '\\$&')}\\)`), 'and so does the table')
  const assigned = run.log().find(l => typeof l.msg === 'string' && l.msg.startsWith(`assigned ${expected}/64`))
  t.match(assigned, { downstream: 'lan0', delegatedPrefix: delegated, reason: 'BOUND6' }, 'the daemon logs the assignment')
  t.ok(lab.hookCalls().some(env => env.reason === 'DELEGATED6' && env.new_ip6_prefix === delegated), 'the hook still gets DELEGATED6')

  const released = lab.ctl('release')
  t.equal(released.code, 0, released.stderr)
  const release = await lab.waitForPacket('a Release', p => p.fromClient && p.msgType === MessageType.Release, 5000)
  t.same(release.iaPrefixes.map(p => p.prefix), [delegated], 'the Release carries the prefix')
  t.same(await global(), [], 'the /64 address is gone from lan0')
  const removed = run.log().find(l => typeof l.msg === 'string' && l.msg.startsWith(`removed ${expected}/64 from lan0`))
  t.match(removed, { reason: 'RELEASE6' }, 'the daemon logs the removal')
  await waitFor('Kea to free the prefix', () => !readKeaLeases(lab.kea!.leaseFile).current.some(l => l.type === 'IA_PD'), 5000)
  t.pass("Kea's lease file no longer holds the prefix")
  t.equal(lab.status().downstream, undefined, 'ctl status shows no downstream /64')
})

t.test('Decline: the leased address is already on another host of the link; DAD fails, the client Declines, Kea marks it declined, the client Solicits again', async t => {
  if (!need(t, CLIENT_LAB_NEEDS)) return
  const TAKEN = '2001:db8:7::100'
  // a pool of exactly this one address
  const lab = await ClientLab.create(t, { kea: { pools: [`${TAKEN}-${TAKEN}`], renewTimer: 100, rebindTimer: 160, preferredLifetime: 200, validLifetime: 300 } })
  // the other host: a third namespace on the same bridge, owning the address already
  const squatter = await lab.lab.addNamespace('sq')
  await lab.lab.link(lab.net.router, 'vsq', squatter, 'eth0')
  await lab.net.router.run(['ip', 'link', 'set', 'vsq', 'master', lab.net.routerIf])
  await squatter.run(['ip', '-6', 'addr', 'add', `${TAKEN}/64`, 'dev', 'eth0', 'nodad'])
  // DAD on in the client namespace: NetnsLab turned it off (all and default); the kernel runs DAD
  // when either "all" or the interface's own accept_dad is set
  await lab.ns.sysctl(`net.ipv6.conf.${lab.ifname}.accept_dad`, 1)
  const run = lab.startDaemon(['--sol-max-delay', '0'])

  const decline = await lab.waitForPacket('a Decline', p => p.fromClient && p.msgType === MessageType.Decline, 20_000)
  const packets = await lab.packets()
  const request = packets.find(p => p.fromClient && p.msgType === MessageType.Request)!
  const bound = replyTo(packets, request)
  t.same(bound?.iaAddresses.map(a => a.address), [TAKEN], `Kea leased ${TAKEN} (${sequence(packets)})`)
  t.same(decline.iaAddresses.map(a => a.address), [TAKEN], 'the Decline names the address in its IA_NA')
  t.ok(decline.optionCodes.includes(2), 'with the Server ID (RFC 8415 section 18.2.8)')
  t.equal(decline.clientId, request.clientId, 'and the same Client ID')
  t.equal(decline.dst, 'ff02::1:2', 'to All_DHCP_Relay_Agents_and_Servers')
  t.ok(decline.time > (bound?.time ?? Infinity), 'after the Reply that leased it')
  t.same((await lab.addresses()).filter(a => a.local === TAKEN), [], 'the duplicate address is not on eth0')

  const declineReply = await waitFor('Kea\'s Reply to the Decline', async () => replyTo(await lab.packets(), decline), 5000)
  t.ok(declineReply.statusCodes.every(code => code === 0), `Kea answers Success (status codes ${declineReply.statusCodes.join(',') || 'none'})`)
  const declined = await waitFor('Kea to record the lease as declined', () => readKeaLeases(lab.kea!.leaseFile).history.filter(l => l.address === TAKEN).pop()?.state === 1 || undefined, 5000)
  t.ok(declined, "Kea's lease file has the address in state 1 (declined)")
  t.same(readKeaLeases(lab.kea!.leaseFile).current, [], 'and no usable lease')

  const hook = await waitFor('the hook with DECLINE6', () => lab.hookCalls().find(env => env.reason === 'DECLINE6'), 5000)
  t.equal(hook.old_ip6_address, TAKEN, 'DECLINE6 has old_ip6_address')
  const solicit = await lab.waitForPacket('a Solicit after the Decline', p => p.fromClient && p.msgType === MessageType.Solicit && p.time > declineReply.time, 10_000)
  t.ok(solicit, `the client Solicits again ${(solicit.time - declineReply.time).toFixed(2)} s after the Decline's Reply`)
  // Kea's only address is on probation now (decline-probation-period): NoAddrsAvail (2)
  const advertise = await lab.waitForPacket('Kea\'s Advertise to the new Solicit', p => !p.fromClient && p.msgType === MessageType.Advertise && p.xid === solicit.xid, 5000)
  t.ok(advertise.statusCodes.includes(2) && advertise.iaAddresses.length === 0, `Kea has no address left to offer (status codes ${advertise.statusCodes.join(',')})`)
  t.ok(run.log().some(l => l.msg === 'sent Decline' && typeof l.ias === 'string' && l.ias.includes(TAKEN)), 'the daemon logs the Decline it sent')
  t.equal((lab.status().counters['dad.failed'] ?? 0), 1, 'ctl status counts one DAD failure')
})
