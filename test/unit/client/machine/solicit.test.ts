// Solicit: initial delay, message contents, retransmission on the wire (both profiles), Advertise
// collection and selection, SOL_MAX_RT from servers, Rapid Commit.
import t from 'tap'
import { ScriptedRandom, SeededRandom } from '../../../../src/client/clock.js'
import { OptionCode, StatusCode, findOption, findOptions, formatIpv6 } from '../../../../src/dhcpv6/index.js'
import {
  NA1, OTHER_SERVER_DUID, START_MS, STATEFUL_NA, answer, bench, elapsed, iaNa, iaPd, iaids, leaseReply, status,
} from './harness.js'

// positiveRand for a sample u, as RFC 8415 section 18.2.1 needs it (first RT strictly > IRT).
const firstRand = (u: number) => (0.1 * (Math.floor(u * 2 ** 20) + 1)) / 2 ** 20

t.test('first Solicit waits a random delay within SOL_MAX_DELAY, then goes out with the RFC options', async t => {
  // samples: xid, initial delay, first RAND
  const b = bench({ random: new ScriptedRandom([0.25, 0.5, 0.5]), defaultSpec: { mode: 'stateful', iaNa: [1, 2], iaPd: [{ iaid: 7, prefixLength: 56 }], dns: true } })
  b.machine.start({ mode: 'stateful', iaNa: [1, 2], iaPd: [{ iaid: 7, prefixLength: 56 }], dns: true })
  t.equal(b.machine.state, 'soliciting')
  b.clock.advance(499)
  t.equal(b.sent.length, 0, 'nothing before the delay (0.5 * SOL_MAX_DELAY 1 s)')
  b.clock.advance(1)
  t.equal(b.sent.length, 1)
  const solicit = b.last()
  t.equal(solicit.at, START_MS + 500)
  t.equal(solicit.message.type, 'solicit')
  t.equal(solicit.message.transactionId, Math.floor(0.25 * 0x1000000), 'xid from the injected Random')
  t.same(solicit.destination, { kind: 'multicast' })
  t.equal(elapsed(solicit.message), 0, 'Elapsed Time 0 in the first message')
  t.ok(findOption(solicit.message.options, 'client-id'), 'Client ID')
  t.notOk(findOption(solicit.message.options, 'server-id'), 'no Server ID in Solicit')
  t.same(findOption(solicit.message.options, 'oro')?.codes, [OptionCode['dns-servers'], OptionCode['domain-list'], OptionCode['ntp-server'], OptionCode['sol-max-rt']])
  t.notOk(findOption(solicit.message.options, 'rapid-commit'), 'Rapid Commit is opt-in')
  t.notOk(findOption(solicit.message.options, 'reconfigure-accept'))
  t.same(iaids(solicit.message), ['ia-na:1', 'ia-na:2', 'ia-pd:7'])
  const pd = findOptions(solicit.message.options, 'ia-pd')[0]
  const hint = pd && findOptions(pd.options, 'ia-prefix')[0]
  t.equal(hint?.prefixLength, 56, 'prefix-length hint')
  t.equal(hint && formatIpv6(hint.prefix), '::')
  const na = findOptions(solicit.message.options, 'ia-na')[0]
  t.same([na?.t1, na?.t2, na?.options.length], [0, 0, 0], 'IA_NA with T1/T2 0 and no addresses')
})

t.test('SOL_MAX_DELAY override 0 sends at once; no ORO DNS codes without dns', async t => {
  const b = bench({ solicitMaxDelayMs: 0, rapidCommit: true, reconfigureAccept: true, requestNtp: false })
  b.machine.start({ ...STATEFUL_NA, dns: false })
  t.equal(b.sent.length, 1)
  t.equal(b.last().at, START_MS)
  t.same(findOption(b.last().message.options, 'oro')?.codes, [OptionCode['sol-max-rt']])
  t.ok(findOption(b.last().message.options, 'rapid-commit'))
  t.ok(findOption(b.last().message.options, 'reconfigure-accept'))
})

t.test('retransmissions: RT doubles from IRT with RAND, same xid, exact Elapsed Time', async t => {
  // xid, delay 0, first RAND sample 0.5, then RAND samples 0.5 (RAND = 0) forever
  const b = bench({ random: new ScriptedRandom([0.1, 0, 0.5]) })
  b.machine.start(STATEFUL_NA)
  b.clock.advance(40_000)
  const sends = b.sentOf('solicit')
  const rt1 = 1000 * (1 + firstRand(0.5))
  const expected = [START_MS]
  let rt = rt1
  while (expected[expected.length - 1]! + rt <= START_MS + 40_000) {
    expected.push(expected[expected.length - 1]! + rt)
    rt *= 2
  }
  t.same(sends.map(s => s.at), expected, 'send times: IRT(1+RAND), then 2*RTprev')
  t.ok(new Set(sends.map(s => s.message.transactionId)).size === 1, 'one xid for the exchange')
  t.same(sends.map(s => elapsed(s.message)), expected.map(at => Math.floor((at - START_MS) / 10)), 'Elapsed Time in centiseconds')
  t.equal(b.counter('retransmitted.solicit'), sends.length - 1)
  t.ok(b.events.some(e => e.kind === 'sent' && e.retransmission && e.attempt === 2), 'retransmission flagged in the event')
})

for (const [profileName, mrtS] of [['rfc3315', 120], ['rfc8415', 3600]] as const) {
  t.test(`${profileName}: Solicit RT caps at SOL_MAX_RT ${mrtS} s +-10%`, async t => {
    const b = bench({ profileName, random: new SeededRandom(11), solicitMaxDelayMs: 0 })
    b.machine.start(STATEFUL_NA)
    b.clock.advance(mrtS * 1000 * 12)
    const times = b.sentOf('solicit').map(s => s.at)
    const gaps = times.slice(1).map((at, i) => at - times[i]!)
    const capped = gaps.filter(g => g > mrtS * 1000 * 0.8)
    t.ok(capped.length >= 5, `several gaps at the cap (${capped.length})`)
    for (const g of capped) t.ok(g >= mrtS * 900 && g <= mrtS * 1100, `gap ${g} ms within ${mrtS} s +-10%`)
    t.ok(Math.max(...gaps) <= mrtS * 1100)
    t.ok(elapsed(b.last().message) === 0xffff, 'Elapsed Time capped at 0xFFFF after 655.35 s')
  })
}

t.test('Advertises are collected until the first RT; best preference wins, then arrival order', async t => {
  const b = bench({ random: new ScriptedRandom([0.3, 0, 0.5]) })
  b.machine.start(STATEFUL_NA)
  const solicit = b.last().message
  b.clock.advance(100)
  b.deliver(answer('advertise', solicit, { server: OTHER_SERVER_DUID, options: [{ kind: 'preference', value: 10 }, iaNa(1, 0, 0, [['2001:db8::b', 100, 200]])] }), 'fe80::bb')
  b.deliver(answer('advertise', solicit, { options: [{ kind: 'preference', value: 20 }, iaNa(1, 0, 0, [['2001:db8::a', 100, 200]])] }))
  b.deliver(answer('advertise', solicit, { server: OTHER_SERVER_DUID, options: [{ kind: 'preference', value: 20 }, iaNa(1, 0, 0, [['2001:db8::c', 100, 200]])] }), 'fe80::cc')
  t.equal(b.machine.state, 'soliciting', 'still collecting')
  t.equal(b.sentOf('request').length, 0)
  b.clock.advance(1050)
  const request = b.sentOf('request')[0]
  t.ok(request, 'Request once the first RT is over')
  t.equal(request?.at, START_MS + 1000 * (1 + firstRand(0.5)), 'at the first RT, not later')
  t.equal(b.machine.state, 'requesting')
  const server = request && findOption(request.message.options, 'server-id')
  t.same(server?.duid.type === 'll' && Array.from(server.duid.linkLayerAddress), [2, 0, 0, 0, 0, 0xaa], 'preference 20, first arrived')
  const na = request && findOptions(request.message.options, 'ia-na')[0]
  t.same(na && findOptions(na.options, 'ia-address').map(a => formatIpv6(a.address)), ['2001:db8::a'], 'offered address as hint')
  t.equal(request && elapsed(request.message), 0, 'new exchange: Elapsed Time starts at 0')
  t.not(request?.message.transactionId, solicit.transactionId, 'new xid')
  t.same(findOption(request!.message.options, 'oro')?.codes.includes(OptionCode['sol-max-rt']), true)
})

t.test('preference 255 is taken at once; an Advertise after the first RT at once', async t => {
  const b = bench({ solicitMaxDelayMs: 0 })
  b.machine.start(STATEFUL_NA)
  b.clock.advance(10)
  b.deliver(answer('advertise', b.last().message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1])] }))
  t.equal(b.sentOf('request').length, 1)
  t.equal(b.last().at, START_MS + 10)

  const c = bench({ solicitMaxDelayMs: 0 })
  c.machine.start(STATEFUL_NA)
  c.clock.advance(1200) // first RT (<= 1.1 s) over, retransmitted
  t.equal(c.sentOf('solicit').length, 2)
  c.deliver(answer('advertise', c.last().message, { options: [iaNa(1, 0, 0, [NA1])] }))
  t.equal(c.sentOf('request').length, 1, 'first valid Advertise after the first RT is acted on')
})

t.test('Advertise without leases (NoAddrsAvail / NoPrefixAvail for every IA) is ignored and counted', async t => {
  const b = bench({ solicitMaxDelayMs: 0, defaultSpec: { mode: 'stateful', iaNa: [1], iaPd: [{ iaid: 2 }], dns: false } })
  b.machine.start({ mode: 'stateful', iaNa: [1], iaPd: [{ iaid: 2 }], dns: false })
  const solicit = b.last().message
  b.deliver(answer('advertise', solicit, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [], [status(StatusCode.NoAddrsAvail)]), iaPd(2, 0, 0, [], [status(StatusCode.NoPrefixAvail)])] }))
  b.deliver(answer('advertise', solicit, { options: [{ kind: 'preference', value: 255 }, status(StatusCode.NoAddrsAvail)] }))
  t.equal(b.counter('dropped.advertise-without-leases'), 2)
  t.equal(b.sentOf('request').length, 0)
  b.clock.advance(5000)
  t.equal(b.machine.state, 'soliciting', 'keeps soliciting')
  // One IA with a prefix is enough.
  b.deliver(answer('advertise', b.last().message, { options: [iaNa(1, 0, 0, [], [status(StatusCode.NoAddrsAvail)]), iaPd(2, 0, 0, [['2001:db8:100::', 56, 100, 200]])] }))
  t.equal(b.sentOf('request').length, 1)
  t.same(iaids(b.last().message), ['ia-na:1', 'ia-pd:2'], 'Request still asks for every configured IA')
})

t.test('SOL_MAX_RT from an Advertise is honoured within 60..86400, even from an ignored Advertise', async t => {
  const b = bench({ random: new ScriptedRandom([0.1, 0, 0.5]) })
  b.machine.start(STATEFUL_NA)
  b.deliver(answer('advertise', b.last().message, { options: [{ kind: 'sol-max-rt', seconds: 59 }, status(StatusCode.NoAddrsAvail)] }))
  t.equal(b.counter('ignored.sol-max-rt-out-of-range'), 1)
  t.equal(b.machine.activeProfile.SOL_MAX_RT, 3600)
  b.deliver(answer('advertise', b.last().message, { options: [{ kind: 'sol-max-rt', seconds: 60 }, status(StatusCode.NoAddrsAvail)] }))
  t.equal(b.counter('applied.sol-max-rt'), 1)
  t.equal(b.machine.activeProfile.SOL_MAX_RT, 60)
  b.clock.advance(600_000)
  const times = b.sentOf('solicit').map(s => s.at)
  const gaps = times.slice(1).map((at, i) => at - times[i]!)
  t.equal(Math.max(...gaps), 60_000, 'RT capped at the new SOL_MAX_RT (RAND 0 here)')
})

t.test('Rapid Commit: a Reply with Rapid Commit binds at once; without it, it is dropped', async t => {
  const b = bench({ solicitMaxDelayMs: 0, rapidCommit: true })
  b.machine.start(STATEFUL_NA)
  const solicit = b.last().message
  b.deliver(leaseReply(solicit))
  t.equal(b.counter('dropped.reply-without-rapid-commit'), 1)
  t.equal(b.machine.state, 'soliciting')
  b.deliver(leaseReply(solicit, [{ kind: 'rapid-commit' }]))
  t.equal(b.machine.state, 'bound')
  t.equal(b.sentOf('request').length, 0, 'no Request after a Rapid Commit Reply')
  await b.settle()
  t.same(b.hooks(), ['BOUND6'])

  const off = bench({ solicitMaxDelayMs: 0 })
  off.machine.start(STATEFUL_NA)
  off.deliver(leaseReply(off.last().message, [{ kind: 'rapid-commit' }]))
  t.equal(off.machine.state, 'soliciting', 'Rapid Commit Reply ignored when not enabled')
  t.equal(off.counter('dropped.reply-without-rapid-commit'), 1)
})
