// Stateless operation (Information-request, Information Refresh Time, INF_MAX_RT) and RA
// triggering in the three --on-ra modes.
import t from 'tap'
import { ScriptedRandom, SeededRandom } from '../../../../src/client/clock.js'
import { UsageError } from '../../../../src/cli/usage-error.js'
import { OptionCode, findOption } from '../../../../src/dhcpv6/index.js'
import { NA1, START_MS, addr, answer, bench, bind, elapsed, iaNa, iaids } from './harness.js'

const RAND0 = () => new ScriptedRandom([0.5])
const M = { managed: true, other: false, replayed: false }
const O = { managed: false, other: true, replayed: false }

t.test('RA with O=1 alone: Information-request after INF_MAX_DELAY, no IA, ORO with 32 and 83', async t => {
  const b = bench({ random: RAND0() })
  b.machine.onRa(O)
  t.equal(b.machine.state, 'information-requesting')
  b.clock.advance(499)
  t.equal(b.sent.length, 0)
  b.clock.advance(1)
  const inf = b.sentOf('information-request')[0]!
  t.equal(inf.at, START_MS + 500)
  t.same(iaids(inf.message), [])
  t.notOk(findOption(inf.message.options, 'server-id'))
  t.ok(findOption(inf.message.options, 'client-id'))
  t.equal(elapsed(inf.message), 0)
  t.same(findOption(inf.message.options, 'oro')?.codes, [OptionCode['dns-servers'], OptionCode['domain-list'], OptionCode['ntp-server'], OptionCode['information-refresh-time'], OptionCode['inf-max-rt']])
})

for (const [profileName, mrtS] of [['rfc3315', 120], ['rfc8415', 3600]] as const) {
  t.test(`${profileName}: Information-request retransmits up to INF_MAX_RT ${mrtS} s +-10%, for ever`, async t => {
    const b = bench({ profileName, random: new SeededRandom(5), informationRequestMaxDelayMs: 0 })
    b.machine.onRa(O)
    b.clock.advance(mrtS * 1000 * 10)
    const times = b.sentOf('information-request').map(s => s.at)
    const gaps = times.slice(1).map((at, i) => at - times[i]!)
    t.ok(gaps[0]! >= 900 && gaps[0]! <= 1100, 'INF_TIMEOUT 1 s +-10%')
    const capped = gaps.filter(g => g > mrtS * 800)
    t.ok(capped.length >= 4)
    for (const g of capped) t.ok(g >= mrtS * 900 && g <= mrtS * 1100, `gap ${g}`)
  })
}

t.test('Reply: informed, DNS applied, INFORM6; refresh at the Information Refresh Time', async t => {
  for (const [irt, expected] of [[700, 700], [100, 600], [undefined, 86400]] as const) {
    const b = bench({ random: RAND0(), informationRequestMaxDelayMs: 0 })
    b.machine.onRa(O)
    const inf = b.last().message
    b.deliver(answer('reply', inf, {
      options: [{ kind: 'dns-servers', servers: [addr('2001:db8::53')] }, { kind: 'domain-list', domains: ['lab.example.'] }, ...(irt === undefined ? [] : [{ kind: 'information-refresh-time' as const, seconds: irt }])],
    }))
    t.equal(b.machine.state, 'informed')
    await b.settle()
    t.match(b.effects, [{ effect: 'applyDns', servers: ['2001:db8::53'], search: ['lab.example'] }, { effect: 'hook' }])
    t.same(b.hooks(), ['INFORM6'])
    t.same(b.machine.status().dnsServers, ['2001:db8::53'])
    b.clock.advance(expected * 1000 - 1)
    t.equal(b.sentOf('information-request').length, 1, `no refresh before ${expected} s`)
    b.clock.advance(1)
    const refresh = b.sentOf('information-request')[1]
    t.equal(refresh?.at, START_MS + expected * 1000, `refresh after ${expected} s (IRT ${irt ?? 'absent'})`)
    t.equal(refresh && elapsed(refresh.message), 0)
  }
  const never = bench({ random: RAND0(), informationRequestMaxDelayMs: 0 })
  never.machine.onRa(O)
  never.deliver(answer('reply', never.last().message, { options: [{ kind: 'information-refresh-time', seconds: 0xffffffff }] }))
  t.equal(never.clock.pendingCount, 0, 'infinite refresh time: no timer')
})

t.test('INF_MAX_RT from a Reply bounds the next Information-request retransmissions', async t => {
  const b = bench({ random: RAND0(), informationRequestMaxDelayMs: 0 })
  b.machine.onRa(O)
  b.deliver(answer('reply', b.last().message, { options: [{ kind: 'inf-max-rt', seconds: 70 }, { kind: 'information-refresh-time', seconds: 600 }] }))
  t.equal(b.machine.activeProfile.INF_MAX_RT, 70)
  b.clock.advance(600_000 + 400_000)
  const refresh = b.sentOf('information-request').slice(1)
  const gaps = refresh.slice(1).map((r, i) => r.at - refresh[i]!.at)
  t.equal(Math.max(...gaps), 70_000)
})

t.test('on-ra auto: M=1 Solicits once; more RAs (live or replayed) change nothing; no storm', async t => {
  const b = bench({ random: new SeededRandom(3) })
  b.machine.onRa({ ...M, replayed: true })
  t.equal(b.machine.state, 'soliciting')
  for (let i = 0; i < 10; i++) {
    b.clock.advance(100)
    b.machine.onRa(M)
  }
  b.clock.advance(5000)
  const xids = new Set(b.sentOf('solicit').map(s => s.message.transactionId))
  t.equal(xids.size, 1, 'one Solicit exchange')
  t.equal(b.counter('ra.replayed'), 1)
  t.equal(b.counter('ra.live'), 10)
  t.equal(b.counter('ra.no-change'), 10)
  // M=0 O=0: nothing; bound + M=1: nothing.
  const c = bench()
  c.machine.onRa({ managed: false, other: false, replayed: false })
  t.equal(c.machine.state, 'idle')
  bind(c)
  c.machine.onRa(M)
  t.equal(c.machine.state, 'bound')
})

t.test('on-ra auto: M=1 after stateless operation switches to stateful', async t => {
  const b = bench({ random: RAND0(), informationRequestMaxDelayMs: 0, solicitMaxDelayMs: 0 })
  b.machine.onRa(O)
  b.deliver(answer('reply', b.last().message, {}))
  t.equal(b.machine.state, 'informed')
  b.machine.onRa(O)
  t.equal(b.machine.state, 'informed', 'O=1 again: nothing')
  b.machine.onRa(M)
  t.equal(b.machine.state, 'soliciting')
  t.equal(b.clock.pendingCount, 1, 'the refresh timer is gone; only the Solicit timer runs')
})

t.test('on-ra solicit: every RA Solicits unless an exchange runs (the original design)', async t => {
  const b = bench({ onRa: 'solicit', solicitMaxDelayMs: 0 })
  b.machine.onRa({ managed: false, other: false, replayed: false })
  t.equal(b.machine.state, 'soliciting', 'flags do not matter')
  b.machine.onRa(M)
  t.equal(b.counter('ra.ignored-running'), 1)
  t.equal(b.sentOf('solicit').length, 1)
  bind(b)
  b.machine.onRa(M)
  t.equal(b.machine.state, 'soliciting', 'a new Solicit even when bound')
})

t.test('on-ra solicit: an RA while bound does not cost the lease its Renew at T1 and Rebind at T2', async t => {
  const b = bench({ onRa: 'solicit', solicitMaxDelayMs: 0 })
  const boundAt = bind(b, [], 10, 16)
  b.machine.onRa(M)
  t.equal(b.machine.state, 'soliciting', 'the RA starts a Solicit; the server stays silent')
  b.clock.advance(boundAt + 10_000 - b.clock.now() - 1)
  t.equal(b.sentOf('renew').length, 0, 'no Renew before T1')
  b.clock.advance(1)
  t.equal(b.machine.state, 'renewing', 'T1 takes over from the unanswered Solicit')
  t.equal(b.sentOf('renew').length, 1)
  b.clock.advance(boundAt + 16_000 - b.clock.now())
  t.equal(b.machine.state, 'rebinding', 'Renew ends at T2: Rebind')
  t.equal(b.sentOf('rebind').length, 1)
})

t.test('on-ra solicit: T2 during an unanswered Request that an RA started while bound leads to Rebind', async t => {
  const b = bench({ onRa: 'solicit', solicitMaxDelayMs: 0 })
  const boundAt = bind(b, [], 10, 16)
  b.machine.onRa(M)
  const solicit = b.sentOf('solicit').at(-1)!
  b.deliver(answer('advertise', solicit.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 10, 16, [NA1])] }))
  t.equal(b.machine.state, 'requesting', 'Preference 255: Request at once')
  b.clock.advance(boundAt + 16_000 - b.clock.now() - 1)
  t.equal(b.machine.state, 'requesting', 'T1 does not abort a Request that may bring the lease back')
  t.equal(b.sentOf('renew').length, 0)
  b.clock.advance(1)
  t.equal(b.machine.state, 'rebinding', 'T2 does: Rebind, which any server can answer')
  t.equal(b.sentOf('rebind').length, 1)
})

t.test('on-ra ignore: only the start verb starts', async t => {
  const b = bench({ onRa: 'ignore', solicitMaxDelayMs: 0 })
  b.machine.onRa(M)
  b.machine.onRa(O)
  t.equal(b.machine.state, 'idle')
  t.equal(b.counter('ra.ignored'), 2)
  b.machine.start({ mode: 'stateless', iaNa: [], iaPd: [], dns: true })
  t.equal(b.machine.state, 'information-requesting')
})

t.test('bad start specs and options name the fix', async t => {
  const b = bench()
  t.throws(() => b.machine.start({ mode: 'stateful', iaNa: [], iaPd: [], dns: true }), UsageError)
  t.throws(() => b.machine.start({ mode: 'stateful', iaNa: [1, 1], iaPd: [], dns: true }), /same IAID/)
  t.throws(() => b.machine.start({ mode: 'stateful', iaNa: [-1], iaPd: [], dns: true }), /iaid=N/)
  t.throws(() => b.machine.start({ mode: 'stateful', iaNa: [], iaPd: [{ iaid: 1, prefixLength: 0 }], dns: true }), /len=/)
  t.throws(() => bench({ solicitMaxDelayMs: -1 }), /solicitMaxDelayMs/)
  t.throws(() => bench({ onRa: 'sometimes' as 'auto' }), /--on-ra auto, solicit or ignore/)
  t.equal(b.machine.state, 'idle')
})

t.test('link down: RAs are ignored and nothing is sent; ifup without a lease resumes what ran', async t => {
  const b = bench({ random: RAND0() })
  b.machine.onRa(M)
  b.clock.advance(600)
  b.machine.ifdown()
  b.machine.onRa(M)
  t.equal(b.counter('ra.ignored'), 1)
  b.clock.advance(60_000)
  t.equal(b.sentOf('solicit').length, 1)
  b.machine.ifup()
  t.equal(b.machine.state, 'soliciting')
  t.equal(b.sentOf('solicit').length, 1)
  b.clock.advance(500)
  t.equal(b.sentOf('solicit').length, 2, 'Solicit again, as a first one (initial delay)')
})

t.test('start while the link is down starts at ifup; DAD failure while down removes without sending', async t => {
  const b = bench({ random: RAND0() })
  b.machine.ifdown()
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [], dns: true })
  t.equal(b.machine.state, 'idle')
  b.clock.advance(5000)
  t.equal(b.sent.length, 0)
  b.machine.ifup()
  b.clock.advance(500)
  t.equal(b.sentOf('solicit').length, 1)

  const c = bench({ random: RAND0() })
  bind(c)
  c.machine.ifdown()
  c.machine.onDadFailed('2001:db8::100')
  t.equal(c.sentOf('decline').length, 0)
  await c.settle()
  t.ok(c.hooks().includes('DECLINE6'))
  t.same(c.machine.status().leases.flatMap(l => l.entries), [])
})
