import t from 'tap'
import { decodeMessage, encodeMessage, validateMessage, type Message, type Option } from '../../../src/dhcpv6/index.js'
import { loadVectors, reconfigure, richReply } from '../../fuzz/corpus.js'

const duid = (last: number) => ({ type: 'll' as const, hardwareType: 1, linkLayerAddress: Uint8Array.of(2, 0, 0, 0, 0, last) })
const codes = (msg: Message, context?: Parameters<typeof validateMessage>[1]) => validateMessage(msg, context).map(v => v.code)

t.test('every captured vector from real peers passes', async t => {
  for (const v of loadVectors()) t.same(validateMessage(decodeMessage(Buffer.from(v.hex, 'hex'))), [], v.id)
})

t.test('Advertise without Server ID or Client ID (RFC 8415 16.3)', async t => {
  t.same(codes({ type: 'advertise', transactionId: 1, options: [] }), ['missing-server-id', 'missing-client-id'])
})

t.test('Solicit with a Server ID and without Elapsed Time', async t => {
  t.same(codes({ type: 'solicit', transactionId: 1, options: [{ kind: 'client-id', duid: duid(1) }, { kind: 'server-id', duid: duid(2) }] }),
    ['unexpected-server-id', 'missing-elapsed-time'])
})

t.test('T1 > T2 and preferred > valid name the IA they concern', async t => {
  const ia: Option = { kind: 'ia-na', iaid: 9, t1: 3000, t2: 2000, options: [
    { kind: 'ia-address', address: new Uint8Array(16), preferredLifetime: 500, validLifetime: 400, options: [] },
  ] }
  const msg: Message = { type: 'reply', transactionId: 1, options: [{ kind: 'client-id', duid: duid(1) }, { kind: 'server-id', duid: duid(2) }, ia] }
  const found = validateMessage(msg)
  t.same(found.map(v => [v.code, v.iaid, v.path]), [
    ['t1-greater-than-t2', 9, 'options[2] IA_NA(iaid 9)'],
    ['preferred-greater-than-valid', 9, 'options[2] IA_NA(iaid 9) > options[0] IA Address'],
  ])
  t.equal(found[0]?.option, ia)
  // T1 = 0 or T2 = 0 leaves the times to the client: no violation
  t.same(codes({ ...msg, options: [msg.options[0]!, msg.options[1]!, { kind: 'ia-pd', iaid: 1, t1: 5, t2: 0, options: [] }] }), [])
})

t.test('client ID and transaction ID are checked against what was sent', async t => {
  const sent: Message = { type: 'solicit', transactionId: 0x10, options: [{ kind: 'client-id', duid: duid(1) }, { kind: 'elapsed-time', hundredths: 0 }] }
  const answer: Message = { type: 'advertise', transactionId: 0x11, options: [{ kind: 'client-id', duid: duid(7) }, { kind: 'server-id', duid: duid(2) }] }
  t.same(codes(answer, { inReplyTo: sent }), ['client-id-mismatch', 'transaction-id-mismatch'])
  const inforeq: Message = { type: 'information-request', transactionId: 5, options: [{ kind: 'elapsed-time', hundredths: 0 }] }
  t.same(codes({ type: 'reply', transactionId: 5, options: [{ kind: 'server-id', duid: duid(2) }] }, { inReplyTo: inforeq }), [],
    'a Reply may omit the Client ID when the Information-request had none (16.10)')
})

t.test('misplaced, duplicated and out-of-range options', async t => {
  const msg: Message = { type: 'reply', transactionId: 1, options: [
    { kind: 'client-id', duid: duid(1) }, { kind: 'server-id', duid: duid(2) }, { kind: 'server-id', duid: duid(3) },
    { kind: 'preference', value: 255 },
    { kind: 'ia-address', address: new Uint8Array(16), preferredLifetime: 1, validLifetime: 2, options: [] },
    { kind: 'ia-pd', iaid: 1, t1: 0, t2: 0, options: [{ kind: 'ia-prefix', preferredLifetime: 1, validLifetime: 2, prefixLength: 129, prefix: new Uint8Array(16), options: [] }] },
    { kind: 'ia-pd', iaid: 1, t1: 0, t2: 0, options: [] },
    { kind: 'sol-max-rt', seconds: 10 }, { kind: 'inf-max-rt', seconds: 100000 }, { kind: 'information-refresh-time', seconds: 60 },
    { kind: 'domain-list', domains: ['partial'] },
  ] }
  t.same(codes(msg), [
    'duplicate-option', 'misplaced-option', 'misplaced-option', 'invalid-prefix-length', 'duplicate-iaid',
    'sol-max-rt-out-of-range', 'inf-max-rt-out-of-range', 'information-refresh-time-below-minimum', 'domain-name-not-fully-qualified',
  ])
})

t.test('Reconfigure rules (16.11) and relay rules', async t => {
  t.same(codes(reconfigure()), [])
  const base = reconfigure()
  if (base.type !== 'reconfigure') return t.fail(base.type)
  t.same(codes({ ...base, options: base.options.filter(o => o.kind !== 'authentication' && o.kind !== 'reconfigure-message') }),
    ['missing-reconfigure-message', 'missing-authentication'])
  t.same(codes({ ...base, options: base.options.map(o => (o.kind === 'reconfigure-message' ? { ...o, msgType: 7 } : o)) }), ['invalid-reconfigure-message-type'])
  t.same(codes({ type: 'relay-forw', hopCount: 9, linkAddress: new Uint8Array(16), peerAddress: new Uint8Array(16), options: [] }),
    ['missing-relay-message', 'hop-count-exceeded'])
  t.same(codes(decodeMessage(encodeMessage(richReply()))), [], 'the rich Reply sample is valid')
})
