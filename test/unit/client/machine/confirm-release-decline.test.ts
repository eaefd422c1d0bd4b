// Confirm after ifup and after a restart with a stored lease; Release; Decline after DAD failure;
// stop and restart.
import t from 'tap'
import { ScriptedRandom } from '../../../../src/client/clock.js'
import { OptionCode, StatusCode, findOption, findOptions, formatIpv6 } from '../../../../src/dhcpv6/index.js'
import type { StoredLease } from '../../../../src/state/lease-store.js'
import { START_MS, addr, answer, bench, bind, elapsed, iaNa, iaids, leaseReply, status } from './harness.js'

const RAND0 = () => new ScriptedRandom([0.5])

t.test('ifdown/ifup: Confirm within CNF_MAX_DELAY; Success keeps the lease and its T1', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b)
  b.clock.advance(100_000)
  b.machine.ifdown()
  t.equal(b.machine.state, 'idle')
  b.clock.advance(100_000)
  t.equal(b.sent.length, 2, 'nothing sent while the link is down')
  b.machine.ifup()
  t.equal(b.machine.state, 'confirming')
  b.clock.advance(500)
  const confirm = b.sentOf('confirm')[0]!
  t.equal(confirm.at, boundAt + 200_500, 'after 0.5 * CNF_MAX_DELAY')
  t.notOk(findOption(confirm.message.options, 'server-id'), 'Confirm has no Server ID')
  t.ok(findOption(confirm.message.options, 'client-id'))
  t.equal(elapsed(confirm.message), 0)
  t.ok(findOption(confirm.message.options, 'oro')?.codes.includes(OptionCode['sol-max-rt']))
  const na = findOptions(confirm.message.options, 'ia-na')[0]!
  t.same([na.iaid, na.t1, na.t2], [1, 0, 0], 'T1/T2 0 in Confirm')
  t.same(findOptions(na.options, 'ia-address').map(a => [formatIpv6(a.address), a.preferredLifetime, a.validLifetime]), [['2001:db8::100', 0, 0]])
  b.deliver(answer('reply', confirm.message, { options: [status(StatusCode.Success, 'all on link')] }))
  t.equal(b.machine.state, 'bound')
  await b.settle()
  t.same(b.hooks(), ['BOUND6', 'BOUND6'])
  b.clock.advance(1000_000 - 200_500 - 1)
  t.equal(b.sentOf('renew').length, 0)
  b.clock.advance(1)
  t.equal(b.sentOf('renew')[0]?.at, boundAt + 1000_000, 'Renew at the original T1')
})

t.test('T1 passed while the link was down: Renew right after the Confirm succeeds', async t => {
  const b = bench({ random: RAND0() })
  const boundAt = bind(b)
  b.machine.ifdown()
  b.clock.advance(1200_000)
  b.machine.ifup()
  b.clock.advance(500)
  b.deliver(answer('reply', b.sentOf('confirm')[0]!.message, {}))
  b.clock.advance(0) // the overdue T1 timer fires on the next turn
  t.equal(b.machine.state, 'renewing')
  t.equal(b.sentOf('renew')[0]?.at, boundAt + 1200_500)
  t.ok(findOption(b.sentOf('renew')[0]!.message.options, 'server-id'))
})

t.test('Confirm without any Reply: retransmitted until CNF_MAX_RD, then the lease is kept', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.machine.ifdown()
  b.machine.ifup()
  b.clock.advance(20_000)
  const confirms = b.sentOf('confirm')
  const first = confirms[0]!.at
  t.same(confirms.map(c => (c.at - first) / 1000), [0, 1, 3, 7], 'CNF_TIMEOUT 1 s, CNF_MAX_RT 4 s')
  t.same(confirms.map(c => elapsed(c.message)), [0, 100, 300, 700])
  t.equal(b.machine.state, 'bound', 'keeps using the lease after CNF_MAX_RD 10 s')
  t.equal(b.counter('gave-up.confirm'), 1)
  await b.settle()
  t.match(b.effects.filter(e => e.effect === 'applyAddress').at(-1), { address: '2001:db8::100', at: first + 10_000 })
})

t.test('Confirm answered NotOnLink: addresses removed, Solicit', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.machine.ifdown()
  b.machine.ifup()
  b.clock.advance(500)
  b.deliver(answer('reply', b.sentOf('confirm')[0]!.message, { options: [status(StatusCode.NotOnLink)] }))
  t.equal(b.machine.state, 'soliciting')
  await b.settle()
  t.match(b.effects.filter(e => e.effect === 'removeAddress'), [{ address: '2001:db8::100' }])
  t.ok(b.effects.some(e => e.effect === 'removeLease'))
  t.equal(b.machine.status().leases.length, 0)
  const notOnLinkAt = b.clock.now()
  b.clock.advance(500)
  t.equal(b.sentOf('solicit').at(-1)!.at, notOnLinkAt + 500, 'the first Solicit since the link came up: initial delay')
})

const stored = (wall: number, withPrefix = false): StoredLease => ({
  interface: 'eth0',
  obtainedAt: wall - 600_000, // 10 minutes ago
  serverDuid: '00030001' + '0200000000aa',
  iaNa: [{ iaid: 1, t1: 1000, t2: 1600, addresses: [{ address: '2001:db8::100', preferredLifetime: 3000, validLifetime: 4000 }] }],
  iaPd: withPrefix ? [{ iaid: 2, t1: 1000, t2: 1600, prefixes: [{ prefix: '2001:db8:1::', length: 56, preferredLifetime: 3000, validLifetime: 4000 }] }] : [],
  dnsServers: ['2001:db8::53'],
  domainSearch: ['example.com'],
  ntpServers: [],
})
const WALL = 1_700_000_000_000 + START_MS

t.test('restart with a stored, still valid lease: Confirm first; lifetimes count from when it was obtained', async t => {
  const b = bench({ random: RAND0(), storedLease: stored(WALL) })
  t.equal(b.machine.status().leases[0]?.entries[0]?.validLeft, 3400)
  b.machine.onRa({ managed: true, other: false, replayed: true })
  t.equal(b.machine.state, 'confirming')
  b.clock.advance(500)
  t.same(iaids(b.sentOf('confirm')[0]!.message), ['ia-na:1'])
  b.deliver(answer('reply', b.sentOf('confirm')[0]!.message, {}))
  t.equal(b.machine.state, 'bound', 'a Reply without status is Success')
  await b.settle()
  // applied when the Reply came, 600.5 s after the lease was obtained: whole seconds left
  t.match(b.effects.find(e => e.effect === 'applyAddress'), { address: '2001:db8::100', preferred: 2399, valid: 3399 })
  b.clock.advance(400_000)
  t.equal(b.sentOf('renew')[0]?.at, START_MS + 500 + 399_500, 'T1 counted from the original Reply (1000 s - 600 s)')
})

t.test('restart with delegated prefixes: Rebind with Confirm timing (RFC 8415 18.2.12); no reply keeps the lease', async t => {
  const b = bench({ random: RAND0(), storedLease: stored(WALL, true), defaultSpec: { mode: 'stateful', iaNa: [1], iaPd: [{ iaid: 2 }], dns: true } })
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [{ iaid: 2 }], dns: true })
  b.clock.advance(20_000)
  const rebinds = b.sentOf('rebind')
  t.equal(b.sentOf('confirm').length, 0)
  t.same(rebinds.map(r => (r.at - START_MS) / 1000), [0.5, 1.5, 3.5, 7.5], 'CNF_MAX_DELAY, CNF_TIMEOUT, CNF_MAX_RT')
  t.same(iaids(rebinds[0]!.message), ['ia-na:1', 'ia-pd:2'])
  t.equal(b.machine.state, 'bound')
})

t.test('an expired stored lease is not used', async t => {
  const old = stored(WALL)
  old.obtainedAt = WALL - 4001_000
  const b = bench({ storedLease: old, solicitMaxDelayMs: 0 })
  t.equal(b.machine.status().leases.length, 0)
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: true })
  t.equal(b.machine.state, 'soliciting')
})

for (const [profileName, rc] of [['rfc8415', 4], ['rfc3315', 5]] as const) {
  t.test(`${profileName}: Release removes addresses first, then is sent ${rc} times (REL_MAX_RC)`, async t => {
    const b = bench({ random: RAND0(), profileName })
    bind(b, [{ kind: 'server-unicast', address: addr('2001:db8::1') }])
    await b.settle()
    const effectsBefore = b.effects.length
    const released = b.machine.release()
    t.equal(b.machine.state, 'releasing')
    const first = b.sentOf('release')[0]!
    t.same(first.destination, { kind: 'unicast', address: '2001:db8::1' })
    t.ok(findOption(first.message.options, 'server-id'))
    t.notOk(findOption(first.message.options, 'oro'))
    t.same(findOptions(findOptions(first.message.options, 'ia-na')[0]!.options, 'ia-address').map(a => formatIpv6(a.address)), ['2001:db8::100'])
    b.clock.advance(100_000)
    await released
    const releases = b.sentOf('release')
    t.equal(releases.length, rc)
    t.same(releases.map(r => (r.at - first.at) / 1000), [0, 1, 3, 7, 15].slice(0, rc), 'REL_TIMEOUT 1 s doubling, no MRT')
    t.same(releases.map(r => elapsed(r.message)), [0, 100, 300, 700, 1500].slice(0, rc))
    t.equal(b.machine.state, 'idle')
    const after = b.effects.slice(effectsBefore)
    t.match(after[0], { effect: 'removeAddress', address: '2001:db8::100', at: first.at })
    t.ok(after.some(e => e.effect === 'removeLease'))
    t.same(b.hooks(), ['BOUND6', 'RELEASE6'])
  })
}

t.test('a Reply ends the Release at once, whatever its status', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  const released = b.machine.release()
  b.clock.advance(1500)
  b.deliver(answer('reply', b.sentOf('release')[1]!.message, { options: [status(StatusCode.NoBinding)] }))
  await released
  t.equal(b.sentOf('release').length, 2)
  t.equal(b.machine.state, 'idle')
  t.equal(b.machine.status().leases.length, 0)
})

t.test('DAD failure: the address is removed and declined (DEC_MAX_RC), the rest stays bound', async t => {
  const b = bench({ random: RAND0() })
  bind(b, [])
  // a second address in the same IA through a Renew
  b.clock.advance(1000_000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 1000, 1600, [['2001:db8::100', 3000, 4000], ['2001:db8::101', 3000, 4000]])] }))
  b.machine.onDadFailed('2001:DB8::101')
  t.equal(b.machine.state, 'declining')
  const decline = b.sentOf('decline')[0]!
  t.equal(decline.at, b.clock.now(), 'sent at once')
  t.ok(findOption(decline.message.options, 'server-id'))
  t.same(findOptions(findOptions(decline.message.options, 'ia-na')[0]!.options, 'ia-address').map(a => formatIpv6(a.address)), ['2001:db8::101'], 'only the declined address')
  b.clock.advance(30_000)
  t.same(b.sentOf('decline').map(d => (d.at - decline.at) / 1000), [0, 1, 3, 7], 'DEC_TIMEOUT 1 s, DEC_MAX_RC 4')
  t.equal(b.machine.state, 'bound')
  await b.settle()
  t.ok(b.hooks().includes('DECLINE6'))
  t.match(b.effects.filter(e => e.effect === 'removeAddress'), [{ address: '2001:db8::101' }])
  t.same(b.machine.status().leases[0]?.entries.map(e => e.value), ['2001:db8::100'])
  b.machine.onDadFailed('2001:db8::999')
  t.equal(b.counter('dad.unknown-address'), 1)
})

t.test('declining the only address: after the Reply, Solicit', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.machine.onDadFailed('2001:db8::100')
  b.deliver(answer('reply', b.sentOf('decline')[0]!.message, { options: [status(StatusCode.Success)] }))
  t.equal(b.machine.state, 'soliciting')
})

t.test('stop keeps the lease on disk (STOP6) and restart Confirms it; releaseOnStop sends Release', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  await b.machine.stop()
  t.equal(b.machine.state, 'stopped')
  t.same(b.hooks(), ['BOUND6', 'STOP6'])
  t.ok(b.effects.some(e => e.effect === 'removeAddress'))
  t.notOk(b.effects.some(e => e.effect === 'removeLease'), 'the lease file stays')
  b.machine.onRa({ managed: true, other: false, replayed: false })
  t.equal(b.machine.state, 'stopped', 'RAs do not restart a stopped client')
  await b.machine.restart()
  t.equal(b.machine.state, 'confirming')

  const c = bench({ random: RAND0(), releaseOnStop: true })
  bind(c)
  const stopped = c.machine.stop()
  c.deliver(leaseReply(c.sentOf('release')[0]!.message))
  await stopped
  t.equal(c.machine.state, 'stopped')
  t.same(c.hooks(), ['BOUND6', 'RELEASE6', 'STOP6'])
})

t.test('a second release() while releasing waits for the same Release', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  const first = b.machine.release()
  const second = b.machine.release()
  b.deliver(answer('reply', b.sentOf('release')[0]!.message, {}))
  await Promise.all([first, second])
  t.equal(b.sentOf('release').length, 1)
  t.same(b.hooks(), ['BOUND6', 'RELEASE6'])
})

t.test('ifup and ifdown are idempotent: a repeated one changes nothing and is counted', async t => {
  const b = bench({ random: RAND0() })
  bind(b)
  b.machine.ifup()
  t.equal(b.machine.state, 'bound', 'ifup while up: still bound, no Confirm')
  t.equal(b.counter('ifup.already-up'), 1)
  b.machine.ifdown()
  b.machine.ifdown()
  t.equal(b.counter('ifdown.already-down'), 1)
  b.machine.ifup()
  t.equal(b.machine.state, 'confirming')
  b.clock.advance(500)
  t.equal(b.sentOf('confirm').length, 1)
  b.machine.ifup()
  b.clock.advance(500)
  t.equal(b.sentOf('confirm').length, 1, 'a second ifup neither restarts nor repeats the Confirm')
  t.equal(b.machine.state, 'confirming', 'the Confirm still runs')
  b.deliver(answer('reply', b.sentOf('confirm')[0]!.message, { options: [status(StatusCode.Success)] }))
  t.equal(b.machine.state, 'bound')

  // while soliciting, ifup does not restart the Solicit exchange (its xid and schedule stay)
  const s = bench({ random: RAND0() })
  s.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  s.clock.advance(1000)
  const first = s.sentOf('solicit')[0]!.at
  s.machine.ifup()
  t.equal(s.machine.state, 'soliciting')
  t.equal(s.sentOf('solicit').length, 1, 'nothing sent at the ifup')
  s.clock.advance(1500)
  const again = s.sentOf('solicit').map(m => m.at - first)
  t.ok(again.length === 2 && again[1]! > 1000, `the first exchange retransmits after its first RT (> IRT 1 s): ${again.join(', ')} ms`)
})
