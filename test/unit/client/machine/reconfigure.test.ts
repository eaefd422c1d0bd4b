// Reconfigure with RKAP (RFC 8415 sections 18.2.11 and 20.4): the key from the Reply, HMAC-MD5
// over the message with the HMAC field zeroed, monotonic replay detection, and every rejection.
import { createHmac } from 'node:crypto'
import t from 'tap'
import { ScriptedRandom } from '../../../../src/client/clock.js'
import { signReconfigure } from '../../../../src/client/machine/rkap.js'
import { encodeMessage, findOption } from '../../../../src/dhcpv6/index.js'
import type { Duid, Option } from '../../../../src/dhcpv6/model.js'
import { CLIENT_DUID, OTHER_SERVER_DUID, SERVER_DUID, addr, answer, bench, bind, leaseReply, type Bench } from './harness.js'

const KEY = Uint8Array.from(Array.from({ length: 16 }, (_, i) => 0x10 + i))
const keyOption = (replay: bigint, key: Uint8Array = KEY): Option => ({ kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: replay, info: { format: 'rkap', type: 1, value: key } })

interface ReconfigureSpec {
  msgType?: number
  extra?: Option[]
  replay?: bigint
  server?: Duid
  client?: Duid
  auth?: 'none' | 'bad-hmac' | 'type1' | 'ok'
}

/**
 * A Reconfigure signed independently of the code under test: the Authentication option is put
 * last, so its HMAC field is the last 16 bytes of the message.
 */
function reconfigure(spec: ReconfigureSpec = {}): Uint8Array {
  const options: Option[] = [
    { kind: 'client-id', duid: spec.client ?? CLIENT_DUID },
    { kind: 'server-id', duid: spec.server ?? SERVER_DUID },
    { kind: 'reconfigure-message', msgType: spec.msgType ?? 5 },
    ...(spec.extra ?? []),
  ]
  const auth = spec.auth ?? 'ok'
  if (auth !== 'none') {
    options.push({ kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: spec.replay ?? 100n, info: { format: 'rkap', type: auth === 'type1' ? 1 : 2, value: new Uint8Array(16) } })
  }
  const bytes = encodeMessage({ type: 'reconfigure', transactionId: 0, options })
  if (auth === 'none') return bytes
  const digest = createHmac('md5', KEY).update(bytes).digest()
  bytes.set(digest, bytes.length - 16)
  if (auth === 'bad-hmac') bytes[bytes.length - 1]! ^= 0x01
  return bytes
}

function boundWithKey(replay = 50n): Bench {
  const b = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true })
  bind(b, [keyOption(replay)])
  return b
}

t.test('Reconfigure Accept goes in Solicit, Request, Renew, Rebind, Information-request', async t => {
  const b = boundWithKey()
  t.ok(findOption(b.sentOf('solicit')[0]!.message.options, 'reconfigure-accept'))
  t.ok(findOption(b.sentOf('request')[0]!.message.options, 'reconfigure-accept'))
  b.clock.advance(1000_000)
  t.ok(findOption(b.sentOf('renew')[0]!.message.options, 'reconfigure-accept'))
  b.clock.advance(600_000)
  t.ok(findOption(b.sentOf('rebind')[0]!.message.options, 'reconfigure-accept'))
})

t.test('signReconfigure computes the same digest as an independent HMAC-MD5', async t => {
  const unsigned = reconfigure({ auth: 'ok' })
  const copy = Uint8Array.from(unsigned)
  copy.fill(0, copy.length - 16)
  signReconfigure(copy, KEY)
  t.same(Buffer.from(copy).toString('hex'), Buffer.from(unsigned).toString('hex'))
})

t.test('a valid Reconfigure starts Renew at once; Rebind; Information-request', async t => {
  const b = boundWithKey()
  b.clock.advance(5000)
  b.deliver(reconfigure({ msgType: 5, replay: 51n }))
  t.equal(b.machine.state, 'renewing')
  t.equal(b.sentOf('renew')[0]?.at, b.clock.now())
  t.equal(b.counter('received.reconfigure'), 1)
  // while the Renew runs, Reconfigures are dropped
  b.deliver(reconfigure({ msgType: 5, replay: 52n }))
  t.equal(b.counter('dropped.reconfigure-busy'), 1)
  b.deliver(leaseReply(b.sentOf('renew')[0]!.message, [keyOption(60n)]))
  t.equal(b.machine.state, 'bound')

  b.deliver(reconfigure({ msgType: 6, replay: 61n }))
  t.equal(b.machine.state, 'rebinding')
  t.notOk(findOption(b.last().message.options, 'server-id'))
  b.deliver(leaseReply(b.last().message))
  t.equal(b.machine.state, 'bound')

  b.deliver(reconfigure({ msgType: 11, replay: 62n }))
  t.equal(b.machine.state, 'information-requesting')
  b.clock.advance(1000)
  const inf = b.sentOf('information-request')[0]!
  t.same(findOption(inf.message.options, 'server-id')?.duid, SERVER_DUID, 'the Information-request names the Reconfigure\'s server (RFC 8415 section 18.2.6)')
  b.deliver(answer('reply', inf.message, { options: [{ kind: 'dns-servers', servers: [addr('2001:db8::5353')] }] }))
  t.equal(b.machine.state, 'bound', 'back to Bound, the lease kept')
  t.same(b.machine.status().dnsServers, ['2001:db8::5353'])
  t.equal(b.machine.status().leases.length, 1)
})

t.test('invalid Reconfigures are dropped and counted', async t => {
  const b = boundWithKey(50n)
  const cases: [string, Uint8Array, boolean?][] = [
    ['reconfigure-bad-hmac', reconfigure({ auth: 'bad-hmac', replay: 51n })],
    ['reconfigure-replayed', reconfigure({ replay: 50n })], // not above the Reply's counter
    ['reconfigure-unauthenticated', reconfigure({ auth: 'none' })],
    ['reconfigure-unauthenticated', reconfigure({ auth: 'type1', replay: 51n })],
    ['reconfigure-message-type', reconfigure({ msgType: 3, replay: 51n })],
    ['reconfigure-server-id', reconfigure({ server: OTHER_SERVER_DUID, replay: 51n })],
    ['reconfigure-client-id', reconfigure({ client: OTHER_SERVER_DUID, replay: 51n })],
    ['reconfigure-not-unicast', reconfigure({ replay: 51n }), true],
    ['reconfigure-ia-with-information-request', reconfigure({ msgType: 11, replay: 51n, extra: [{ kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] }] })],
  ]
  for (const [, bytes, multicast] of cases) b.deliver(bytes, 'fe80::aa', multicast ?? false)
  t.equal(b.machine.state, 'bound', 'none was acted on')
  for (const reason of new Set(cases.map(c => c[0]))) t.equal(b.counter(`dropped.${reason}`), cases.filter(c => c[0] === reason).length, reason)
  // a good one, then its replay
  b.deliver(reconfigure({ replay: 70n }))
  t.equal(b.machine.state, 'renewing')
  b.deliver(leaseReply(b.last().message))
  b.deliver(reconfigure({ replay: 70n }))
  b.deliver(reconfigure({ replay: 69n }))
  t.equal(b.counter('dropped.reconfigure-replayed'), 3)
  t.equal(b.machine.state, 'bound')
})

t.test('without a key, or without reconfigure-accept, Reconfigures are dropped', async t => {
  const noKey = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true })
  bind(noKey)
  noKey.deliver(reconfigure({ replay: 51n }))
  t.equal(noKey.counter('dropped.reconfigure-unauthenticated'), 1)
  const notAccepting = bench({ random: new ScriptedRandom([0.5]) })
  bind(notAccepting, [keyOption(1n)])
  notAccepting.deliver(reconfigure({ replay: 51n }))
  t.equal(notAccepting.counter('dropped.reconfigure-not-accepted'), 1)
  t.equal(notAccepting.machine.state, 'bound')
})

t.test('the replay detection baseline is persisted with the lease and survives a restart', async t => {
  const b = boundWithKey(50n)
  t.equal(b.savedLease()?.reconfigureReplayDetection, '50', "the Reply's counter is saved with the key")
  // Above 2^53: a JS number would make the next value below equal to this one.
  const big = (1n << 60n) + 1n
  b.deliver(reconfigure({ replay: big }))
  t.equal(b.machine.state, 'renewing')
  t.equal(b.effects[b.effects.length - 1]?.effect, 'saveLease', 'saved when the Reconfigure was accepted')
  t.equal(b.savedLease()?.reconfigureReplayDetection, big.toString(), 'the accepted counter is saved at once, before the Renew is answered')
  b.deliver(leaseReply(b.sentOf('renew')[0]!.message))
  t.equal(b.machine.state, 'bound')
  const stored = b.savedLease()!
  t.equal(stored.reconfigureReplayDetection, big.toString(), 'a Reply without a key keeps the counter')

  // A new daemon with that lease: Confirm, then the captured Reconfigures are refused.
  const c = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true, storedLease: stored })
  c.machine.onRa({ managed: true, other: false, replayed: false })
  c.clock.advance(1000)
  const confirm = c.sentOf('confirm')[0]
  t.ok(confirm, 'the restarted client Confirms')
  c.deliver(answer('reply', confirm!.message, { options: [{ kind: 'status-code', status: 0, message: '' }] }))
  t.equal(c.machine.state, 'bound')
  c.deliver(reconfigure({ replay: big }))
  c.deliver(reconfigure({ replay: big - 1n }))
  c.deliver(reconfigure({ replay: 51n }))
  t.equal(c.counter('dropped.reconfigure-replayed'), 3, 'equal, just below and far below the stored value are dropped')
  t.equal(c.counter('received.reconfigure'), 0)
  t.equal(c.machine.state, 'bound', 'none was acted on')
  c.deliver(reconfigure({ replay: big + 1n }))
  t.equal(c.machine.state, 'renewing', 'a newer one is accepted')
  t.equal(c.counter('received.reconfigure'), 1)
  t.equal(c.savedLease()?.reconfigureReplayDetection, (big + 1n).toString())
})

t.test('a restart without a stored counter (older lease file) accepts the first authenticated Reconfigure', async t => {
  const b = boundWithKey(50n)
  const { reconfigureReplayDetection: _dropped, ...older } = b.savedLease()!
  const c = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true, storedLease: older })
  c.machine.onRa({ managed: true, other: false, replayed: false })
  c.clock.advance(1000)
  c.deliver(answer('reply', c.sentOf('confirm')[0]!.message, { options: [{ kind: 'status-code', status: 0, message: '' }] }))
  c.deliver(reconfigure({ replay: 1n }))
  t.equal(c.machine.state, 'renewing')
  t.equal(c.savedLease()?.reconfigureReplayDetection, '1', 'and from then on has a baseline')
})

t.test('informed (stateless): a Reconfigure leads to an Information-request naming its server; other ones name none', async t => {
  const b = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true, informationRequestMaxDelayMs: 0 })
  b.machine.onRa({ managed: false, other: true, replayed: false })
  const first = b.sentOf('information-request')[0]!
  t.notOk(findOption(first.message.options, 'server-id'), 'an ordinary Information-request names no server')
  b.deliver(answer('reply', first.message, { options: [keyOption(10n)] }))
  t.equal(b.machine.state, 'informed')
  b.deliver(reconfigure({ msgType: 11, replay: 11n }))
  t.equal(b.machine.state, 'information-requesting')
  const answering = b.sentOf('information-request')[1]!
  t.same(findOption(answering.message.options, 'server-id')?.duid, SERVER_DUID, 'the one answering the Reconfigure names its server (RFC 8415 section 18.2.6)')
  t.ok(findOption(answering.message.options, 'reconfigure-accept'))
  t.equal(b.counter('received.reconfigure'), 1)
})

t.test('T1 and T2 take over from an unanswered Information-request a Reconfigure started while bound', async t => {
  const b = boundWithKey()
  b.deliver(reconfigure({ msgType: 11, replay: 51n }))
  t.equal(b.machine.state, 'information-requesting')
  b.clock.advance(1000_000) // T1 of the harness's lease; no server answers the Information-request
  t.equal(b.machine.state, 'renewing', 'T1 still Renews')
  t.equal(b.sentOf('renew').length, 1)
  b.clock.advance(600_000)
  t.equal(b.machine.state, 'rebinding', 'and T2 still Rebinds')
})

t.test('a Reply with the same key and an older counter does not lower the replay baseline; a new key starts its own', async t => {
  const b = boundWithKey(50n)
  b.deliver(reconfigure({ replay: 80n }))
  t.equal(b.machine.state, 'renewing')
  b.deliver(leaseReply(b.sentOf('renew')[0]!.message, [keyOption(10n)]))
  t.equal(b.machine.state, 'bound')
  t.equal(b.savedLease()?.reconfigureReplayDetection, '80', 'the same key at counter 10 leaves the baseline at 80')
  b.deliver(reconfigure({ replay: 80n }))
  t.equal(b.counter('dropped.reconfigure-replayed'), 1, 'the captured Reconfigure stays refused')

  const newKey = Uint8Array.from(KEY).reverse()
  b.clock.advance(1000_000)
  b.deliver(leaseReply(b.sentOf('renew')[1]!.message, [keyOption(5n, newKey)]))
  t.equal(b.savedLease()?.reconfigureReplayDetection, '5', 'a new key brings its own counter')
  t.equal(b.savedLease()?.reconfigureKey, Buffer.from(newKey).toString('hex'))
})

t.test('informed: the key survives a Reply without one, so a second Reconfigure is still accepted', async t => {
  const b = bench({ random: new ScriptedRandom([0.5]), reconfigureAccept: true, informationRequestMaxDelayMs: 0 })
  b.machine.onRa({ managed: false, other: true, replayed: false })
  b.deliver(answer('reply', b.sentOf('information-request')[0]!.message, { options: [keyOption(10n)] }))
  b.deliver(reconfigure({ msgType: 11, replay: 11n }))
  b.deliver(answer('reply', b.sentOf('information-request')[1]!.message, { options: [] }))
  t.equal(b.machine.state, 'informed')
  b.deliver(reconfigure({ msgType: 11, replay: 12n }))
  t.equal(b.machine.state, 'information-requesting', 'accepted: the key was kept')
  t.equal(b.counter('received.reconfigure'), 2)
  b.deliver(reconfigure({ msgType: 11, replay: 11n }))
  t.equal(b.counter('dropped.reconfigure-busy') + b.counter('dropped.reconfigure-replayed'), 1)
})

t.test("the Reconfigure's ORO is added to the answering message's ORO (RFC 8415 section 21.7)", async t => {
  const b = boundWithKey()
  const withOro = (msgType: number, replay: bigint): Uint8Array => {
    const options: Option[] = [
      { kind: 'client-id', duid: CLIENT_DUID }, { kind: 'server-id', duid: SERVER_DUID },
      { kind: 'reconfigure-message', msgType }, { kind: 'oro', codes: [31, 56] },
      { kind: 'authentication', protocol: 3, algorithm: 1, rdm: 0, replayDetection: replay, info: { format: 'rkap', type: 2, value: new Uint8Array(16) } },
    ]
    const bytes = encodeMessage({ type: 'reconfigure', transactionId: 0, options })
    bytes.set(createHmac('md5', KEY).update(bytes).digest(), bytes.length - 16)
    return bytes
  }
  b.deliver(withOro(5, 51n))
  const renewOro = findOption(b.sentOf('renew')[0]!.message.options, 'oro')?.codes ?? []
  t.ok(renewOro.includes(31) && renewOro.includes(56), `Renew ORO ${renewOro.join(',')} has 31 and 56`)
  t.equal(renewOro.filter(c => c === 56).length, 1, 'no code twice')
  b.deliver(leaseReply(b.sentOf('renew')[0]!.message))
  b.clock.advance(1000_000)
  const t1Oro = findOption(b.sentOf('renew')[1]!.message.options, 'oro')?.codes ?? []
  t.notOk(t1Oro.includes(31), 'a later Renew at T1 asks for our own options only')
  b.deliver(leaseReply(b.sentOf('renew')[1]!.message))
  b.deliver(withOro(11, 52n))
  b.clock.advance(1000)
  const inf = b.sentOf('information-request')[0]!
  t.ok(findOption(inf.message.options, 'oro')?.codes.includes(31), 'Information-request too')
})
