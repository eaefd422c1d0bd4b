// Every way a lease (or part of it) ends without the client choosing it, with an IA_NA address and
// a delegated prefix held side by side: the EXPIRE6 notice names both, the address leaves the
// interface, the rest of the lease is saved (or the lease forgotten), and Release names both too.
import t from 'tap'
import { ScriptedRandom } from '../../../../src/client/clock.js'
import { StatusCode } from '../../../../src/dhcpv6/index.js'
import type { HookNotice } from '../../../../src/client/machine/ports.js'
import { NA1, answer, bench, iaNa, iaPd, status, type Bench } from './harness.js'

const SPEC = { mode: 'stateful' as const, iaNa: [1], iaPd: [{ iaid: 2 }], dns: false }
const PREFIX = '2001:db8:1::/56'

/** Bound on IA_NA 1 (NA1: 3000/4000 s) and IA_PD 2 (2001:db8:1::/56, lifetimes as given), T1 1000 s, T2 1600 s. */
function boundWithPrefix(prefixLifetimes: [number, number] = [3000, 4000]): Bench {
  const b = bench({ random: new ScriptedRandom([0.5]), defaultSpec: SPEC })
  b.machine.start(SPEC)
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1]), iaPd(2, 0, 0, [['2001:db8:1::', 56, ...prefixLifetimes]])] }))
  b.deliver(answer('reply', b.sentOf('request')[0]!.message, { options: [iaNa(1, 1000, 1600, [NA1]), iaPd(2, 1000, 1600, [['2001:db8:1::', 56, ...prefixLifetimes]])] }))
  if (b.machine.state !== 'bound') throw new Error(`not bound: ${b.machine.state}`)
  return b
}

const notices = (b: Bench, reason: string): HookNotice[] => b.effects.flatMap(e => (e.effect === 'hook' && e.notice.reason === reason ? [e.notice] : []))
const removed = (b: Bench, from = 0): string[] => b.effects.slice(from).flatMap(e => (e.effect === 'removeAddress' ? [e.address] : []))

t.test('NotOnLink in Reply to the Request after NoBinding: EXPIRE6 names the address and the prefix, the lease is forgotten', async t => {
  const b = boundWithPrefix()
  b.clock.advance(1000_000)
  const renew = b.sentOf('renew')[0]!
  b.deliver(answer('reply', renew.message, { options: [iaNa(1, 0, 0, [], [status(StatusCode.NoBinding)]), iaPd(2, 0, 0, [], [status(StatusCode.NoBinding)])] }))
  t.equal(b.machine.state, 'requesting', 'NoBinding: Request with the leases held')
  await b.settle()
  const before = b.effects.length
  b.deliver(answer('reply', b.sentOf('request').at(-1)!.message, { options: [status(StatusCode.NotOnLink)] }))
  t.equal(b.machine.state, 'soliciting')
  await b.settle()
  const expire = notices(b, 'EXPIRE6')
  t.equal(expire.length, 1, 'one EXPIRE6')
  t.same(expire[0]?.addresses, ['2001:db8::100', PREFIX], 'with the address and the delegated prefix')
  t.notOk(expire[0]?.lease, 'and no lease: nothing is left')
  t.same(removed(b, before), ['2001:db8::100'], 'the address leaves the interface')
  t.ok(b.effects.slice(before).some(e => e.effect === 'removeLease'), 'the lease is forgotten')
  t.same(b.machine.status().leases, [])
})

t.test('Confirm answered NotOnLink: EXPIRE6 without a lease, since none is left', async t => {
  const b = bench({ random: new ScriptedRandom([0.5]) })
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: false })
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  b.deliver(answer('reply', b.sentOf('request')[0]!.message, { options: [iaNa(1, 1000, 1600, [NA1])] }))
  b.machine.ifdown()
  b.machine.ifup()
  b.clock.advance(1000)
  b.deliver(answer('reply', b.sentOf('confirm')[0]!.message, { options: [status(StatusCode.NotOnLink)] }))
  await b.settle()
  t.same(notices(b, 'EXPIRE6').map(n => [n.addresses, n.lease]), [[['2001:db8::100'], undefined]])
})

t.test('Release: RELEASE6 names the address and the prefix', async t => {
  const b = boundWithPrefix()
  const released = b.machine.release()
  b.clock.advance(60_000)
  await released
  const release = notices(b, 'RELEASE6')
  t.same(release.map(n => n.addresses), [['2001:db8::100', PREFIX]])
  t.same(release[0]?.lease?.iaPd.map(ia => ia.prefixes.map(p => `${p.prefix}/${p.length}`)), [[PREFIX]], 'the lease released, prefix included')
  t.same(removed(b), ['2001:db8::100'])
})

t.test('a prefix reaching its valid lifetime: EXPIRE6 for it, the rest of the lease saved', async t => {
  const b = boundWithPrefix([100, 200])
  b.clock.advance(200_000)
  await b.settle()
  const expire = notices(b, 'EXPIRE6')
  t.same(expire.map(n => n.addresses), [[PREFIX]])
  t.same(expire[0]?.lease?.iaPd, [], 'what is left has no prefix')
  t.same(expire[0]?.lease?.iaNa.map(ia => ia.iaid), [1], 'but the IA_NA')
  t.same(b.savedLease()?.iaPd, [], 'and is saved')
  t.same(removed(b), [], 'no address removed for a prefix')
  t.equal(b.counter('lease.expired'), 1)
})

t.test('Rebind given up: EXPIRE6 for the address and the prefix', async t => {
  const b = boundWithPrefix()
  b.clock.advance(4000_000)
  await b.settle()
  t.same(notices(b, 'EXPIRE6').map(n => [n.addresses, n.lease]), [[['2001:db8::100', PREFIX], undefined]])
  t.equal(b.machine.state, 'soliciting')
})

t.test('entries the server withdraws with valid lifetime 0 go like expired ones', async t => {
  const b = boundWithPrefix()
  b.clock.advance(1000_000)
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 1000, 1600, [NA1]), iaPd(2, 0, 0, [['2001:db8:1::', 56, 0, 0]])] }))
  t.equal(b.machine.state, 'bound')
  await b.settle()
  t.same(b.hooks(), ['BOUND6', 'DELEGATED6', 'EXPIRE6', 'RENEW6'], 'EXPIRE6 for the withdrawn prefix, then RENEW6 for the rest')
  t.same(notices(b, 'EXPIRE6').map(n => [n.addresses, n.lease?.iaPd]), [[[PREFIX], []]])
  t.equal(b.counter('lease.withdrawn'), 1)
  t.same(b.machine.status().leases.map(l => l.kind), ['ia-na'])

  // Then the address too: nothing is left, so Solicit.
  b.clock.advance(1000_000)
  const before = b.effects.length
  b.deliver(answer('reply', b.sentOf('renew').at(-1)!.message, { options: [iaNa(1, 0, 0, [['2001:db8::100', 0, 0]])] }))
  await b.settle()
  t.equal(b.machine.state, 'soliciting')
  t.same(notices(b, 'EXPIRE6').slice(1).map(n => [n.addresses, n.lease]), [[['2001:db8::100'], undefined]])
  t.same(removed(b, before), ['2001:db8::100'])
  t.ok(b.effects.slice(before).some(e => e.effect === 'removeLease'))
  t.equal(b.counter('lease.withdrawn'), 2)
})
