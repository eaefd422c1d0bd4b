// Request and its Reply: contents, REQ_MAX_RC, Bound effects and hooks, message- and IA-level
// status codes, and every invalid-message rule with its counter.
import t from 'tap'
import { ScriptedRandom } from '../../../../src/client/clock.js'
import { OptionCode, StatusCode, encodeMessage, findOption, findOptions, formatIpv6 } from '../../../../src/dhcpv6/index.js'
import type { ClientServerMessage } from '../../../../src/dhcpv6/model.js'
import {
  CLIENT_DUID, NA1, OTHER_SERVER_DUID, SERVER_DUID, START_MS, addr, answer, bench, elapsed, iaNa, iaPd, leaseReply, status, type Bench,
} from './harness.js'

/** Solicit, then an Advertise with preference 255: returns the first Request sent. */
function toRequest(b: Bench, spec = { mode: 'stateful' as const, iaNa: [1], iaPd: [] as { iaid: number; prefixLength?: number }[], dns: true }): ClientServerMessage {
  b.machine.start(spec)
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.sentOf('solicit')[0]!.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, 0, 0, [NA1]), iaPd(2, 0, 0, [['2001:db8:1::', 56, 100, 200]])] }))
  const request = b.sentOf('request')[0]
  if (!request) throw new Error('no Request')
  return request.message
}

t.test('Request carries Server ID, Client ID, ORO, Elapsed Time and the offered leases as hints', async t => {
  const b = bench()
  const request = toRequest(b)
  t.ok(findOption(request.options, 'server-id'))
  t.ok(findOption(request.options, 'client-id'))
  t.equal(elapsed(request), 0)
  t.same(findOption(request.options, 'oro')?.codes, [OptionCode['dns-servers'], OptionCode['domain-list'], OptionCode['ntp-server'], OptionCode['sol-max-rt']])
  const na = findOptions(request.options, 'ia-na')
  t.same(na.map(ia => [ia.iaid, ia.t1, ia.t2]), [[1, 0, 0]])
  t.same(findOptions(na[0]!.options, 'ia-address').map(a => [formatIpv6(a.address), a.preferredLifetime, a.validLifetime]), [['2001:db8::100', 0, 0]], 'hint with lifetimes 0')
  t.equal(findOptions(request.options, 'ia-pd').length, 0, 'an IA_PD we did not ask for is not requested')
})

t.test('Request retransmits REQ_MAX_RC (10) times then goes back to Solicit', async t => {
  const b = bench({ random: new ScriptedRandom([0.2, 0, 0.5]) })
  toRequest(b)
  b.clock.advance(400_000)
  const requests = b.sentOf('request')
  t.equal(requests.length, 10)
  const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at)
  t.same(gaps, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000], 'REQ_TIMEOUT 1 s doubling to REQ_MAX_RT 30 s (RAND 0)')
  t.same(requests.map(r => elapsed(r.message)), requests.map(r => Math.floor((r.at - requests[0]!.at) / 10)))
  t.equal(b.counter('gave-up.request'), 1)
  const solicitsAfter = b.sentOf('solicit').filter(s => s.at > requests[9]!.at)
  t.ok(solicitsAfter.length > 0, 'Solicit again after giving up')
  t.equal(solicitsAfter[0]!.at, requests[9]!.at + 30000, 'at the last timeout, without a new initial delay')
})

t.test('Reply to Request: Bound, address applied as /128 with lifetimes, DNS, lease saved, BOUND6', async t => {
  const b = bench()
  const request = toRequest(b)
  b.clock.advance(20)
  b.deliver(leaseReply(request))
  t.equal(b.machine.state, 'bound')
  await b.settle()
  const effects = b.effects.map(e => e.effect)
  t.same(effects, ['applyAddress', 'applyDns', 'saveLease', 'hook'])
  t.match(b.effects[0], { effect: 'applyAddress', address: '2001:db8::100', preferred: 3000, valid: 4000 })
  t.match(b.effects[1], { effect: 'applyDns', servers: ['2001:db8::53'], search: ['example.com'] })
  const status = b.machine.status()
  t.equal(status.leases[0]?.t1, 1000)
  t.equal(status.leases[0]?.entries[0]?.validLeft, 4000)
  t.equal(status.serverDuid, '0003000102000000' + '00aa')
  t.same(b.hooks(), ['BOUND6'])
})

t.test('IA_PD Reply: DELEGATED6 with the prefix; several IAs of each kind', async t => {
  const spec = { mode: 'stateful' as const, iaNa: [1, 3], iaPd: [{ iaid: 2 }, { iaid: 4 }], dns: false }
  const b = bench({ defaultSpec: spec })
  const request = toRequest(b, spec)
  t.same(request.options.filter(o => o.kind === 'ia-na' || o.kind === 'ia-pd').map(o => `${o.kind}:${'iaid' in o ? o.iaid : ''}`), ['ia-na:1', 'ia-na:3', 'ia-pd:2', 'ia-pd:4'])
  b.deliver(answer('reply', request, { options: [iaNa(1, 100, 160, [NA1]), iaNa(3, 100, 160, [['2001:db8::300', 300, 400]]), iaPd(2, 100, 160, [['2001:db8:1::', 56, 300, 400]]), iaPd(4, 100, 160, [['2001:db8:2::', 60, 300, 400]])] }))
  await b.settle()
  t.equal(b.machine.state, 'bound')
  t.same(b.hooks(), ['BOUND6', 'DELEGATED6'])
  const delegated = b.effects.find(e => e.effect === 'hook' && e.notice.reason === 'DELEGATED6')
  t.same(delegated?.effect === 'hook' && delegated.notice.prefixes, ['2001:db8:1::/56', '2001:db8:2::/60'])
  t.same(b.effects.filter(e => e.effect === 'applyAddress').map(e => e.effect === 'applyAddress' && e.address), ['2001:db8::100', '2001:db8::300'], 'prefixes are not applied as addresses')
  t.same(b.machine.status().leases.map(l => `${l.kind}:${l.iaid}:${l.entries[0]?.value}`), ['ia-na:1:2001:db8::100', 'ia-na:3:2001:db8::300', 'ia-pd:2:2001:db8:1::/56', 'ia-pd:4:2001:db8:2::/60'])
})

t.test('Reply status codes to a Request', async t => {
  t.test('UnspecFail: ignored, the Request keeps being retransmitted', async t => {
    const b = bench({ random: new ScriptedRandom([0.2, 0, 0.5]) })
    const request = toRequest(b)
    b.deliver(answer('reply', request, { options: [status(StatusCode.UnspecFail)] }))
    t.equal(b.machine.state, 'requesting')
    t.equal(b.counter('ignored.unspecfail'), 1)
    b.clock.advance(1000)
    t.equal(b.sentOf('request').length, 2)
    t.equal(b.sentOf('request')[1]!.message.transactionId, request.transactionId)
  })
  t.test('UseMulticast: resent to multicast at once', async t => {
    const b = bench()
    const request = toRequest(b)
    b.clock.advance(300)
    b.deliver(answer('reply', request, { options: [status(StatusCode.UseMulticast)] }))
    const again = b.sentOf('request')
    t.equal(again.length, 2)
    t.equal(again[1]!.at, again[0]!.at + 300)
    t.same(again[1]!.destination, { kind: 'multicast' })
    t.equal(elapsed(again[1]!.message), 30)
    t.equal(b.counter('use-multicast'), 1)
  })
  t.test('NotOnLink (message or IA level): back to Solicit', async t => {
    for (const options of [[status(StatusCode.NotOnLink)], [iaNa(1, 0, 0, [], [status(StatusCode.NotOnLink)])]]) {
      const b = bench()
      const request = toRequest(b)
      b.deliver(answer('reply', request, { options }))
      t.equal(b.machine.state, 'soliciting')
      t.equal(b.counter('not-on-link'), 1)
      t.equal(b.sentOf('solicit').length, 2, 'a new Solicit, sent at once')
    }
  })
  t.test('NoAddrsAvail for every IA: back to Solicit; for some IAs: Bound with the others', async t => {
    const b = bench()
    const request = toRequest(b)
    b.deliver(answer('reply', request, { options: [iaNa(1, 0, 0, [], [status(StatusCode.NoAddrsAvail, 'none left')])] }))
    t.equal(b.machine.state, 'soliciting')
    t.equal(b.counter('status.NoAddrsAvail'), 1)

    const spec = { mode: 'stateful' as const, iaNa: [1], iaPd: [{ iaid: 2 }], dns: false }
    const c = bench({ defaultSpec: spec })
    const r2 = toRequest(c, spec)
    c.deliver(answer('reply', r2, { options: [iaNa(1, 100, 160, [NA1]), iaPd(2, 0, 0, [], [status(StatusCode.NoPrefixAvail)])] }))
    t.equal(c.machine.state, 'bound')
    t.equal(c.counter('status.NoPrefixAvail'), 1)
    t.same(c.machine.status().leases.map(l => l.kind), ['ia-na'])
  })
})

t.test('RFC 8415 section 21 rules: IA with T1 > T2 discarded; preferred > valid discarded; lifetime 0 not used', async t => {
  const spec = { mode: 'stateful' as const, iaNa: [1, 3], iaPd: [], dns: false }
  const b = bench({ defaultSpec: spec })
  const request = toRequest(b, spec)
  b.deliver(answer('reply', request, {
    options: [
      iaNa(1, 200, 100, [NA1]), // T1 > T2: the whole IA is ignored
      iaNa(3, 100, 160, [['2001:db8::301', 500, 400], ['2001:db8::302', 300, 400], ['2001:db8::303', 0, 0]]),
    ],
  }))
  t.equal(b.counter('ignored.ia-t1-greater-than-t2'), 1)
  t.equal(b.counter('ignored.preferred-greater-than-valid'), 1)
  t.same(b.machine.status().leases.map(l => [l.iaid, l.entries.map(e => e.value)]), [[3, ['2001:db8::302']]])
  // T1 = 0 with T2 = 0 is not a T1 > T2 violation (handled in renew tests).
})

t.test('invalid Advertise/Reply messages are dropped and counted', async t => {
  const b = bench()
  const request = toRequest(b)
  const cases: [string, Uint8Array][] = [
    ['wrong-xid', leaseReply({ ...request, transactionId: (request.transactionId + 1) & 0xffffff })],
    ['missing-server-id', answer('reply', request, { server: null, options: [iaNa(1, 100, 160, [NA1])] })],
    ['missing-client-id', answer('reply', request, { client: null, options: [iaNa(1, 100, 160, [NA1])] })],
    ['client-id-mismatch', answer('reply', request, { client: { type: 'll', hardwareType: 1, linkLayerAddress: Uint8Array.from([2, 0, 0, 0, 0, 9]) }, options: [iaNa(1, 100, 160, [NA1])] })],
    ['unexpected-advertise', answer('advertise', request, { options: [iaNa(1, 100, 160, [NA1])] })],
    ['malformed', Uint8Array.from([7, 0, 0, 1, 0, 1, 0, 9, 0])],
    ['unknown-message-type', Uint8Array.from([99, 0, 0, 1])],
  ]
  for (const type of ['solicit', 'request', 'confirm', 'renew', 'rebind', 'release', 'decline', 'information-request'] as const) {
    cases.push(['not-for-client', encodeMessage({ type, transactionId: request.transactionId, options: [{ kind: 'client-id', duid: CLIENT_DUID }, { kind: 'server-id', duid: SERVER_DUID }] })])
  }
  for (const type of ['relay-forw', 'relay-repl'] as const) {
    cases.push(['not-for-client', encodeMessage({ type, hopCount: 0, linkAddress: addr('::'), peerAddress: addr('fe80::1'), options: [{ kind: 'relay-message', message: { type: 'reply', transactionId: request.transactionId, options: [] } }] })])
  }
  for (const [reason, bytes] of cases) b.deliver(bytes)
  t.equal(b.machine.state, 'requesting', 'none of them was used')
  for (const reason of new Set(cases.map(c => c[0]))) {
    t.equal(b.counter(`dropped.${reason}`), cases.filter(c => c[0] === reason).length, `dropped.${reason}`)
  }
  const dropped = b.events.filter(e => e.kind === 'received' && !e.accepted)
  t.equal(dropped.length, cases.length, 'one received event per message, with its reason')
  // A Reply with no exchange running at all.
  const idle = bench()
  idle.deliver(leaseReply(request))
  t.equal(idle.counter('dropped.no-exchange'), 1)
  // A Reply from a different server than the Request's is still a valid Reply (RFC 8415 16.10).
  b.deliver(answer('reply', request, { server: OTHER_SERVER_DUID, options: [iaNa(1, 100, 160, [NA1])] }))
  t.equal(b.machine.state, 'bound')
  t.equal(b.last().at <= START_MS + 1000, true)
})

t.test('a delegated prefix longer than 128 bits is discarded, never put on the wire', async t => {
  const spec = { mode: 'stateful' as const, iaNa: [], iaPd: [{ iaid: 2 }], dns: false }
  const b = bench({ defaultSpec: spec, random: new ScriptedRandom([0.5]) })
  b.machine.start(spec)
  b.clock.advance(1000)
  b.deliver(answer('advertise', b.last().message, { options: [{ kind: 'preference', value: 255 }, iaPd(2, 0, 0, [['2001:db8:1::', 56, 100, 200]])] }))
  b.deliver(answer('reply', b.last().message, { options: [iaPd(2, 50, 80, [['2001:db8:1::', 56, 100, 200], ['2001:db8:2::', 200, 100, 200]])] }))
  t.equal(b.counter('ignored.invalid-prefix-length'), 1)
  t.same(b.machine.status().leases[0]?.entries.map(e => e.value), ['2001:db8:1::/56'])
  b.clock.advance(50_000)
  t.equal(b.sentOf('renew').length, 1)
  t.equal(b.counter('encode-errors'), 0)
})
