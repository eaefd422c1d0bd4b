// The lease a hook notice carries (and the state file holds) gives each entry's lifetimes and
// T1/T2 as received, counted from when they were received, like dhclient's new_max_life,
// new_preferred_life, new_renew, new_rebind and new_starts, even on a clock that moves while the
// Reply is handled.
import t from 'tap'
import { ScriptedRandom, VirtualClock, type Clock } from '../../../../src/client/clock.js'
import type { HookNotice } from '../../../../src/client/machine/ports.js'
import { NA1, START_MS, answer, bench, iaNa, iaPd } from './harness.js'

const WALL0 = 1_700_000_000_000
const SPEC = { mode: 'stateful' as const, iaNa: [1], iaPd: [{ iaid: 2 }], dns: false }

t.test('lifetimes as received on a real-like clock that moves between reading it twice', async t => {
  const inner = new VirtualClock(START_MS)
  let creep = 0
  // Every read is 0.3 ms later, like performance.now() while a Reply is handled.
  const clock: Clock = { now: () => inner.now() + (creep += 0.3), setTimer: (d, cb) => inner.setTimer(d, cb), clearTimer: h => inner.clearTimer(h) }
  const b = bench({ clock, wallClock: () => WALL0 + clock.now(), random: new ScriptedRandom([0.5]), defaultSpec: SPEC, solicitMaxDelayMs: 0 })
  b.machine.start(SPEC)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  b.deliver(answer('reply', b.sentOf('request')[0]!.message, { options: [iaNa(1, 150, 240, [['2001:db8::100', 200, 300]]), iaPd(2, 150, 240, [['2001:db8:1::', 56, 200, 300]])] }))
  t.equal(b.machine.state, 'bound')
  await b.settle()
  const bound = b.effects.find(e => e.effect === 'hook' && e.notice.reason === 'BOUND6')
  const lease = bound?.effect === 'hook' ? bound.notice.lease : undefined
  t.same(lease?.iaNa.map(ia => [ia.t1, ia.t2, ia.addresses.map(a => [a.preferredLifetime, a.validLifetime])]), [[150, 240, [[200, 300]]]], 'not 299 s for a 300 s lease')
  t.same(lease?.iaPd.map(ia => [ia.t1, ia.t2, ia.prefixes.map(p => [p.preferredLifetime, p.validLifetime])]), [[150, 240, [[200, 300]]]])
  t.same(b.savedLease()?.iaNa[0]?.addresses[0]?.validLifetime, 300, 'the state file too')
})

t.test('an IA the last Reply did not extend is given as what was left of it then', async t => {
  const b = bench({ random: new ScriptedRandom([0.5]), defaultSpec: SPEC })
  b.machine.start(SPEC)
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  b.deliver(answer('reply', b.sentOf('request')[0]!.message, { options: [iaNa(1, 1000, 1600, [NA1]), iaPd(2, 1000, 1600, [['2001:db8:1::', 56, 3000, 4000]])] }))
  const boundAt = b.clock.now()
  b.clock.advance(1000_000)
  // The server extends the IA_NA only; the IA_PD keeps its lease.
  b.deliver(answer('reply', b.sentOf('renew')[0]!.message, { options: [iaNa(1, 1000, 1600, [['2001:db8::100', 3000, 4000]])] }))
  await b.settle()
  const renew = b.effects.flatMap(e => (e.effect === 'hook' && e.notice.reason === 'RENEW6' ? [e.notice] : [])) as HookNotice[]
  const lease = renew[0]?.lease
  t.equal(lease?.obtainedAt, WALL0 + boundAt + 1000_000, 'counted from the Reply to Renew')
  t.same(lease?.iaNa[0]?.addresses.map(a => [a.preferredLifetime, a.validLifetime]), [[3000, 4000]], 'the renewed address as received')
  t.same(lease?.iaPd[0]?.prefixes.map(p => [p.preferredLifetime, p.validLifetime]), [[2000, 3000]], 'the prefix as left at that Reply')
  t.same(renew[0]?.old?.iaPd[0]?.prefixes.map(p => [p.preferredLifetime, p.validLifetime]), [[3000, 4000]], 'old_*: as received at the first Reply')
  t.equal(renew[0]?.old?.obtainedAt, WALL0 + boundAt)
})
