// Bound -> Renew at T1 -> Rebind at T2 -> expiry; Server Unicast and UseMulticast; NoBinding;
// T1/T2 of 0 and infinity; lifetime 0.
import t from 'tap'
import { ScriptedRandom } from '../../../../src/client/clock.js'
import { StatusCode, findOption, findOptions, formatIpv6 } from '../../../../src/dhcpv6/index.js'
import { NA1, OTHER_SERVER_DUID, addr, answer, bench, bind, elapsed, iaNa, iaids, leaseReply, status } from './harness.js'

const RAND0 = () => new ScriptedRandom([0.5]) // RAND = 0 on every retransmission

t.test('Renew at T1 to the bound server, retransmitted until T2, then Rebind until the leases expire, then Solicit', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b)
  b.clock.advance(1000_000 - 1)
  t.equal(b.sentOf('renew').length, 0)
  b.clock.advance(1)
  const renews = () => b.sentOf('renew')
  t.equal(renews().length, 1)
  t.equal(b.machine.state, 'renewing')
  const renew = renews()[0]!.message
  t.equal(renews()[0]!.at, boundAt + 1000_000, 'Renew at T1')
  t.same(renews()[0]!.destination, { kind: 'multicast' }, 'no Server Unicast: multicast')
  t.ok(findOption(renew.options, 'server-id'), 'Server ID of the bound server')
  t.equal(elapsed(renew), 0)
  const na = findOptions(renew.options, 'ia-na')[0]!
  t.same([na.iaid, na.t1, na.t2], [1, 0, 0])
  t.same(findOptions(na.options, 'ia-address').map(a => [formatIpv6(a.address), a.preferredLifetime, a.validLifetime]), [['2001:db8::100', 0, 0]])
  b.clock.advance(600_000)
  const t1 = boundAt + 1000_000
  t.same(renews().map(r => (r.at - t1) / 1000), [0, 10, 30, 70, 150, 310], 'REN_TIMEOUT 10 s doubling, MRD ends at T2')
  t.same(renews().map(r => elapsed(r.message)), [0, 1000, 3000, 7000, 15000, 31000])
  const rebinds = () => b.sentOf('rebind')
  t.equal(rebinds().length, 1)
  t.equal(rebinds()[0]!.at, boundAt + 1600_000, 'Rebind at T2')
  t.equal(b.machine.state, 'rebinding')
  t.notOk(findOption(rebinds()[0]!.message.options, 'server-id'), 'Rebind has no Server ID')
  t.same(rebinds()[0]!.destination, { kind: 'multicast' })
  t.same(iaids(rebinds()[0]!.message), ['ia-na:1'])
  await b.settle()
  const before = b.effects.length
  b.clock.advance(2400_000)
  const t2 = boundAt + 1600_000
  t.same(rebinds().map(r => (r.at - t2) / 1000), [0, 10, 30, 70, 150, 310, 630, 1230, 1830], 'REB_MAX_RT 600 s, until the valid lifetime ends')
  t.same(rebinds().map(r => elapsed(r.message)), [0, 1000, 3000, 7000, 15000, 31000, 63000, 0xffff, 0xffff], 'Elapsed Time capped at 0xFFFF')
  await b.settle()
  const after = b.effects.slice(before)
  t.match(after[0], { effect: 'removeAddress', address: '2001:db8::100', at: boundAt + 4000_000 })
  t.same(b.hooks().slice(-1), ['EXPIRE6'])
  t.ok(after.some(e => e.effect === 'removeLease'))
  t.equal(b.machine.state, 'soliciting', 'start over with Solicit')
  t.equal(b.sentOf('solicit').at(-1)!.at, boundAt + 4000_000)
})

t.test('Reply to Renew extends the lease: RENEW6, new T1 counted from the Reply', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b)
  b.clock.advance(1000_000 + 5000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 2000, 3200, [['2001:db8::100', 5000, 6000]])] }))
  t.equal(b.machine.state, 'bound')
  await b.settle()
  t.same(b.hooks(), ['BOUND6', 'RENEW6'])
  const renewHook = b.effects.find(e => e.effect === 'hook' && e.notice.reason === 'RENEW6')
  const notice = renewHook?.effect === 'hook' ? renewHook.notice : undefined
  // As dhclient hands them to its script: each lease with the values it was received with,
  // counted from when it was received.
  t.match(notice?.old, { obtainedAt: 1_700_000_000_000 + boundAt, iaNa: [{ t1: 1000, t2: 1600, addresses: [{ preferredLifetime: 3000, validLifetime: 4000 }] }] }, 'old_* lease: as received at the Reply to Request')
  t.match(notice?.lease, { obtainedAt: 1_700_000_000_000 + boundAt + 1005_000, iaNa: [{ t1: 2000, t2: 3200, addresses: [{ preferredLifetime: 5000, validLifetime: 6000 }] }] }, 'new lease: as received at the Reply to Renew')
  t.match(b.effects.filter(e => e.effect === 'applyAddress').at(-1), { address: '2001:db8::100', preferred: 5000, valid: 6000 })
  b.clock.advance(2000_000)
  t.equal(b.sentOf('renew').length, 2)
  t.equal(b.sentOf('renew')[1]!.at, boundAt + 1005_000 + 2000_000)
})

t.test('Renew goes unicast with Server Unicast; UseMulticast switches to multicast for good', async t => {
  const b = bench({ random: RAND0() })
  bind(b, [{ kind: 'server-unicast', address: addr('2001:db8::1') }])
  b.clock.advance(1000_000)
  const first = b.sentOf('renew')[0]!
  t.same(first.destination, { kind: 'unicast', address: '2001:db8::1' })
  b.clock.advance(2000)
  b.deliver(answer('reply', first.message, { options: [status(StatusCode.UseMulticast)] }))
  const second = b.sentOf('renew')[1]!
  t.same(second.destination, { kind: 'multicast' }, 'resent by multicast at once')
  t.equal(second.message.transactionId, first.message.transactionId)
  t.equal(elapsed(second.message), 200)
  b.deliver(leaseReply(second.message, [{ kind: 'server-unicast', address: addr('2001:db8::1') }]))
  t.equal(b.machine.state, 'bound')
  // A new Reply with Server Unicast allows unicast again (RFC 8415 section 18.2.10).
  b.clock.advance(1000_000)
  t.same(b.sentOf('renew')[2]!.destination, { kind: 'unicast', address: '2001:db8::1' })
  t.equal(b.counter('use-multicast'), 1)
})

t.test('NoBinding in a Reply to Renew: Request for all IAs to that server', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.clock.advance(1000_000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 0, 0, [], [status(StatusCode.NoBinding)])] }))
  t.equal(b.machine.state, 'requesting')
  t.equal(b.counter('status.NoBinding'), 1)
  const request = b.sentOf('request').at(-1)!
  t.equal(request.at, b.sentOf('renew')[0]!.at)
  t.ok(findOption(request.message.options, 'server-id'))
  t.same(findOptions(findOptions(request.message.options, 'ia-na')[0]!.options, 'ia-address').map(a => formatIpv6(a.address)), ['2001:db8::100'], 'the held address as hint')
  b.deliver(leaseReply(request.message))
  t.equal(b.machine.state, 'bound')
})

t.test('Reply to Rebind from another server: that server is now the bound one; REBIND6', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.clock.advance(1600_000)
  const rebind = b.sentOf('rebind')[0]!
  b.deliver(answer('reply', rebind.message, { server: OTHER_SERVER_DUID, options: [iaNa(1, 1000, 1600, [NA1])] }), 'fe80::bb')
  t.equal(b.machine.state, 'bound')
  await b.settle()
  t.same(b.hooks(), ['BOUND6', 'REBIND6'])
  t.equal(b.machine.status().serverDuid, '00030001' + '0200000000bb')
  b.clock.advance(1000_000)
  const renew = b.sentOf('renew').at(-1)!
  const server = findOption(renew.message.options, 'server-id')!.duid
  t.same(server.type === 'll' && Array.from(server.linkLayerAddress), [2, 0, 0, 0, 0, 0xbb])
})

t.test('a Reply to Renew without our IA keeps the lease and waits for T2, no Renew storm', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b)
  b.clock.advance(1000_000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 0, 0, [], [status(StatusCode.NoAddrsAvail)])] }))
  t.equal(b.machine.state, 'bound')
  b.clock.advance(599_999)
  t.equal(b.sentOf('renew').length, 1, 'no new Renew before T2')
  b.clock.advance(1)
  t.equal(b.sentOf('rebind')[0]?.at, boundAt + 1600_000)
})

t.test('lifetime 0 in a Reply removes that address; the others stay', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.clock.advance(1000_000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 1000, 1600, [['2001:db8::100', 0, 0], ['2001:db8::101', 3000, 4000]])] }))
  await b.settle()
  t.match(b.effects.filter(e => e.effect === 'removeAddress'), [{ address: '2001:db8::100' }])
  t.same(b.machine.status().leases[0]?.entries.map(e => e.value), ['2001:db8::101'])
  t.equal(b.counter('lease.withdrawn'), 1)
})

t.test('T1 and T2 of 0: the client picks 0.5 and 0.8 of the shortest preferred lifetime', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b, [], 0, 0)
  t.same([b.machine.status().leases[0]?.t1, b.machine.status().leases[0]?.t2], [1500, 2400])
  b.clock.advance(1500_000)
  t.equal(b.sentOf('renew')[0]?.at, boundAt + 1500_000)
  b.clock.advance(900_000)
  t.equal(b.sentOf('rebind')[0]?.at, boundAt + 2400_000)
})

t.test('infinite T1/T2 and lifetimes: nothing is ever renewed or expired', async t => {
  const b = bench({ random: RAND0() })
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  b.deliver(answer('reply', b.sentOf('request')[0]!.message, { options: [iaNa(1, 0xffffffff, 0xffffffff, [['2001:db8::100', 0xffffffff, 0xffffffff]])] }))
  t.equal(b.machine.state, 'bound')
  t.equal(b.clock.pendingCount, 0, 'no timer armed')
  await b.settle()
  t.match(b.effects.find(e => e.effect === 'applyAddress'), { preferred: 0xffffffff, valid: 0xffffffff })
  t.same(b.machine.status().leases[0]?.entries[0]?.validLeft, 0xffffffff)
  // T1 0 with an infinite preferred lifetime: also never.
  const c = bench({ random: RAND0() })
  c.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  c.clock.advance(1000)
  c.deliver(answer('advertise', c.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  c.deliver(answer('reply', c.sentOf('request')[0]!.message, { options: [iaNa(1, 0, 0, [['2001:db8::100', 0xffffffff, 0xffffffff]])] }))
  t.equal(c.clock.pendingCount, 0)
  // Finite T1, infinite T2: Renew runs with T2 never reached (MRD infinite): it keeps retrying.
  const d = bench({ random: RAND0() })
  d.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  d.clock.advance(1000)
  d.deliver(answer('advertise', d.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  d.deliver(answer('reply', d.sentOf('request')[0]!.message, { options: [iaNa(1, 100, 0xffffffff, [['2001:db8::100', 0xffffffff, 0xffffffff]])] }))
  d.clock.advance(100_000 + 3 * 600_000)
  t.ok(d.sentOf('renew').length >= 8, 'Renew retransmitted at REN_MAX_RT')
  t.equal(d.sentOf('rebind').length, 0)
})
