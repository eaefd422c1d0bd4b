import t from 'tap'
import {
  DhcpDecodeError, DhcpEncodeError, decodeMessage, encodeMessage, encodedLength, findOption, findOptions,
  formatIpv6, messageFromJson, messageToJson, parseIpv6, toHex, type Message,
} from '../../../src/dhcpv6/index.js'
import { handBuiltMessages, reconfigure, relayedSolicit, richReply } from '../../fuzz/corpus.js'

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'))

function decodeError(h: string): DhcpDecodeError {
  try {
    decodeMessage(hex(h))
  } catch (err) {
    if (err instanceof DhcpDecodeError) return err
    throw err
  }
  throw new Error(`expected ${h} to be refused`)
}

t.test('hand-built messages survive encode -> decode -> encode, and decode to the model they came from', async t => {
  for (const msg of handBuiltMessages()) {
    const wire = encodeMessage(msg)
    t.equal(encodedLength(msg), wire.length, `${msg.type}: encodedLength`)
    const back = decodeMessage(wire)
    t.same(back, msg, `${msg.type}: decoded model`)
    t.equal(toHex(encodeMessage(back)), toHex(wire), `${msg.type}: re-encoded bytes`)
    t.equal(toHex(encodeMessage(messageFromJson(JSON.parse(JSON.stringify(messageToJson(back)))))), toHex(wire), `${msg.type}: via JSON`)
  }
})

t.test('wire layout of a small Solicit, byte by byte', async t => {
  const msg: Message = {
    type: 'solicit', transactionId: 0x123456, options: [
      { kind: 'client-id', duid: { type: 'll', hardwareType: 1, linkLayerAddress: hex('020000000001') } },
      { kind: 'elapsed-time', hundredths: 0 },
      { kind: 'oro', codes: [23, 24] },
      { kind: 'ia-na', iaid: 7, t1: 0, t2: 0, options: [] },
    ],
  }
  t.equal(toHex(encodeMessage(msg)),
    '01123456' + '0001000a' + '00030001020000000001' + '00080002' + '0000' + '00060004' + '00170018' + '0003000c' + '00000007' + '00000000' + '00000000')
})

t.test('typed lookups narrow without casts', async t => {
  const msg = decodeMessage(encodeMessage(richReply()))
  t.equal(msg.type, 'reply')
  if (msg.type !== 'reply') return
  const ia = findOption(msg.options, 'ia-na')
  t.equal(ia?.t2, 2000)
  const addr = ia && findOption(ia.options, 'ia-address')
  t.equal(addr && formatIpv6(addr.address), '2001:db8:1::100')
  t.equal(findOptions(msg.options, 'status-code').length, 1)
  t.equal(findOption(msg.options, 'status-code')?.message, 'Success: héllo')
  t.same(findOption(msg.options, 'domain-list')?.domains, ['lab.example.', 'Example.ORG.'])
  const auth = findOption(msg.options, 'authentication')
  t.equal(auth?.replayDetection, 0x0102030405060708n)
  t.equal(auth?.info.format, 'rkap')
})

t.test('relay messages nest the relayed message', async t => {
  const msg = decodeMessage(encodeMessage(relayedSolicit()))
  if (msg.type !== 'relay-forw') return t.fail(`got ${msg.type}`)
  t.equal(formatIpv6(msg.peerAddress), 'fe80::1')
  const inner = findOption(msg.options, 'relay-message')?.message
  t.equal(inner?.type, 'solicit')
  t.equal(inner && 'transactionId' in inner ? inner.transactionId : -1, 0xabcdef)
})

t.test('unknown options, message types and DUID types keep their bytes', async t => {
  const unknownType = '0e0102030405'
  t.same(decodeMessage(hex(unknownType)), { type: 'unknown', msgType: 14, body: hex('0102030405') })
  t.equal(toHex(encodeMessage(decodeMessage(hex(unknownType)))), unknownType)
  const odd = '07000001' + '00010004' + '0001abcd' + '00020003' + '0009ff' + 'fde80000'
  const msg = decodeMessage(hex(odd))
  if (msg.type !== 'reply') return t.fail(msg.type)
  t.same(findOption(msg.options, 'client-id')?.duid, { type: 'raw', typeCode: 1, data: hex('abcd') }, 'DUID-LLT too short for its type')
  t.same(findOption(msg.options, 'server-id')?.duid, { type: 'raw', typeCode: 9, data: hex('ff') })
  t.same(msg.options[2], { kind: 'unknown', code: 0xfde8, data: new Uint8Array(0) })
  t.equal(toHex(encodeMessage(msg)), odd)
})

t.test('names keep case, escapes and partial form exactly', async t => {
  const msg: Message = { type: 'reply', transactionId: 1, options: [
    { kind: 'fqdn', flags: 1, name: 'HoST' },
    { kind: 'domain-list', domains: ['a\\.b.c\\032d.com.', '.'] },
  ] }
  const encoded = encodeMessage(msg)
  // FQDN: flags 01, partial name "HoST" (no root label); domain list: 3 "a.b", 3 "c d", 3 "com", 0, then the root name
  t.equal(toHex(encoded), '07000001' + '00270006' + '01' + '04486f5354' + '0018000e' + '03612e62' + '03632064' + '03636f6d' + '00' + '00')
  t.same(decodeMessage(encoded), msg)
  // bytes above 0x7f are escaped as \DDD and come back exactly (found by the fuzz test)
  const highBytes = '07000001' + '00180005' + '02b8ff' + '0000'
  const high = decodeMessage(hex(highBytes))
  t.same(high.type === 'reply' && findOption(high.options, 'domain-list')?.domains, ['\\184\\255.', '.'])
  t.equal(toHex(encodeMessage(high)), highBytes)
  t.throws(() => encodeMessage({ type: 'reply', transactionId: 1, options: [{ kind: 'domain-list', domains: ['a..b.'] }] }),
    new DhcpEncodeError("domain name 'a..b.': empty label (two dots in a row, or a leading dot)"))
  t.throws(() => encodeMessage({ type: 'reply', transactionId: 1, options: [{ kind: 'fqdn', flags: 0, name: 'x'.repeat(64) }] }),
    new DhcpEncodeError(`domain name '${'x'.repeat(64)}': label of 64 bytes, the limit is 63`))
})

t.test('a name decoded before is reused only where its bytes and its end are the same', async t => {
  // decodeName keeps the last few names with their wire bytes; each case below would come out
  // wrong if a slot were matched on a prefix, or a partial name were taken for a whole one
  const names = (optionHex: string) => {
    const msg = decodeMessage(hex('07000001' + optionHex))
    if (msg.type !== 'reply') throw new Error(`decoded a ${msg.type}`)
    const fqdn = findOption(msg.options, 'fqdn')
    return fqdn ? [fqdn.name] : findOption(msg.options, 'domain-list')!.domains
  }
  t.same(names('00270005' + '00' + '03666f6f'), ['foo'], 'partial name')
  t.same(names('00270009' + '00' + '03666f6f' + '03626172'), ['foo.bar'], 'same first label, longer partial name')
  t.same(names('00180005' + '03666f6f00'), ['foo.'], 'same label, fully qualified')
  t.same(names('00270005' + '00' + '03666f6f'), ['foo'], 'partial again after the qualified one')
  t.same(names('0018000a' + '03666f6f00' + '03626172' + '00'), ['foo.', 'bar.'], 'a qualified name is reused with more after it')
  // a label whose last byte is 0 is not a root label
  t.same(names('00270003' + '00' + '0100'), ['\\000'])
  t.same(names('00180003' + '010000'), ['\\000.'])
  t.same(names('00270005' + '00' + '01000141'), ['\\000.A'])
  // more names than slots, forwards and back
  const many = ['a.', 'bb.', 'ccc.', 'dddd.', 'eeeee.', 'ffffff.']
  const wire = (list: string[]) => {
    const msg: Message = { type: 'reply', transactionId: 1, options: [{ kind: 'domain-list', domains: list }] }
    return toHex(encodeMessage(msg)).slice(8)
  }
  for (const list of [many, [...many].reverse(), many, ['dddd.', 'a.', 'dddd.']]) t.same(names(wire(list)), list)
})

t.test('byte fields are plain Uint8Array views of the input, whatever array it comes in', async t => {
  const kea = '02000001' + '0002000e' + '000100012a3b4c5d' + '0a0b0c0d0e0f' + '00170010' + '20010db8000000000000000000000053'
  const dns = (msg: Message) => msg.type !== 'unknown' && msg.type !== 'relay-forw' && msg.type !== 'relay-repl'
    ? formatIpv6(findOption(msg.options, 'dns-servers')!.servers[0]!) : ''
  const fromBuffer = decodeMessage(Buffer.from(kea, 'hex'))
  const server = fromBuffer.type === 'advertise' ? findOption(fromBuffer.options, 'server-id')!.duid : undefined
  t.equal(server?.type === 'llt' && Object.getPrototypeOf(server.linkLayerAddress), Uint8Array.prototype, 'not a Buffer')
  t.equal(server?.type === 'llt' && toHex(server.linkLayerAddress), '0a0b0c0d0e0f')
  // a view into the middle of a larger buffer, then another input, then the first again
  const big = new Uint8Array(100)
  big.set(hex(kea), 37)
  const inMiddle = big.subarray(37, 37 + kea.length / 2)
  const other = hex(kea.replace('0053', '0054'))
  t.equal(dns(decodeMessage(inMiddle)), '2001:db8::53')
  t.equal(dns(decodeMessage(other)), '2001:db8::54')
  const again = decodeMessage(inMiddle)
  t.equal(dns(again), '2001:db8::53')
  // views share the input's bytes, as the model says
  big[37 + kea.length / 2 - 1] = 0x99
  t.equal(dns(again), '2001:db8::99')
})

t.test('a status message that is not UTF-8 keeps its bytes', async t => {
  const wire = '07000001' + '000d0004' + '0000e9ff'
  const msg = decodeMessage(hex(wire))
  if (msg.type !== 'reply') return t.fail(msg.type)
  const status = findOption(msg.options, 'status-code')
  t.equal(status?.message, 'éÿ')
  t.same(status?.messageBytes, hex('e9ff'))
  t.equal(toHex(encodeMessage(msg)), wire)
})

t.test('malformed input: one error type, exact messages, byte offsets', async t => {
  const cases: [string, string, number][] = [
    ['', 'message at offset 0 is empty: a DHCPv6 message needs at least 4 bytes', 0],
    ['0100', 'solicit message at offset 0 is 2 bytes long, its header alone needs 4', 0],
    ['0c00' + '00'.repeat(20), 'relay-forw message at offset 0 is 22 bytes long, its header alone needs 34', 0],
    ['02000001' + '0003002800000001000003e8000007d0', 'option 3 (IA_NA) at offset 4 declares length 40 but only 12 bytes remain', 4],
    ['02000001' + '00070003010203', 'option 7 (Preference) at offset 4 has length 3, expected 1', 4],
    ['02000001' + '000300080000000100000002', 'option 3 (IA_NA) at offset 4 has length 8, expected at least 12', 4],
    ['02000001' + '0017000a' + '00'.repeat(10), 'option 23 (DNS Recursive Name Server) at offset 4 has length 10, expected a multiple of 16', 4],
    ['02000001' + '000e', 'option header at offset 4 needs 4 bytes but only 2 remain', 4],
    ['02000001' + '0003000e' + '000000010000000000000000' + '0005', 'option header at offset 20 needs 4 bytes but only 2 remain', 20],
    ['02000001' + '00180005' + '0361626300', '', 0], // well-formed: checked below
    ['02000001' + '00180004' + '05616263', 'option 24 (Domain Search List) at offset 4: label at offset 8 declares length 5 but only 3 bytes remain', 8],
    ['02000001' + '00180003' + 'c00c00', 'option 24 (Domain Search List) at offset 4: label at offset 8 starts with 0xc0: a compression pointer, which DHCPv6 forbids', 8],
    ['02000001' + '00270005' + '0001610000', 'option 39 (Client FQDN) at offset 4: 1 bytes follow the name\'s root label at offset 11', 12],
    ['02000001' + '00010001' + '00', 'option 1 (Client Identifier) at offset 4 has length 1, expected at least 2', 4],
    ['02000001' + '00380006' + '00010002abcd', 'option 56 (NTP Server) at offset 4: suboption 1 (server address) at offset 8 has length 2, expected 16', 8],
    ['0d00' + '00'.repeat(32) + '00090002' + '0100', 'solicit message at offset 38 is 2 bytes long, its header alone needs 4', 38],
    ['02000001' + '000f0003' + '0005ab', 'option 15 (User Class) at offset 4: item at offset 8 declares length 5 but only 1 bytes remain', 8],
  ]
  for (const [input, message, offset] of cases) {
    if (message === '') {
      t.doesNotThrow(() => decodeMessage(hex(input)))
      continue
    }
    const err = decodeError(input)
    t.equal(err.message, message)
    t.equal(err.offset, offset, `offset of: ${message}`)
  }
})

t.test('encoder refuses values that do not fit, naming the field', async t => {
  const bad = (msg: Message, message: string) => t.throws(() => encodeMessage(msg), new DhcpEncodeError(message))
  bad({ type: 'solicit', transactionId: 0x1000000, options: [] }, 'transactionId must be a 24-bit integer (0 to 0xffffff), got 16777216')
  bad({ type: 'reply', transactionId: 1, options: [{ kind: 'preference', value: 256 }] }, 'Preference value must be an integer from 0 to 255, got 256')
  bad({ type: 'reply', transactionId: 1, options: [{ kind: 'dns-servers', servers: [new Uint8Array(4)] }] }, 'DNS server must be a 16-byte IPv6 address, got 4 bytes')
  bad({ type: 'reply', transactionId: 1, options: [{ kind: 'unknown', code: 70000, data: new Uint8Array(0) }] }, 'unknown option code must be an integer from 0 to 65535, got 70000')
})

t.test('IPv6 text form follows RFC 5952', async t => {
  for (const [text, canonical] of [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['fe80::', 'fe80::'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ] as const) {
    const a = parseIpv6(text)
    t.equal(a && formatIpv6(a), canonical, text)
  }
  t.equal(parseIpv6('1::2::3'), undefined)
  t.equal(parseIpv6('12345::'), undefined)
  t.equal(parseIpv6('1:2:3:4:5:6:7'), undefined)
})

t.test('the reconfigure sample decodes to the RKAP fields', async t => {
  const msg = decodeMessage(encodeMessage(reconfigure()))
  if (msg.type !== 'reconfigure') return t.fail(msg.type)
  const auth = findOption(msg.options, 'authentication')
  t.same(auth && { protocol: auth.protocol, algorithm: auth.algorithm, rdm: auth.rdm, replay: auth.replayDetection, type: auth.info.format === 'rkap' ? auth.info.type : -1 },
    { protocol: 3, algorithm: 1, rdm: 0, replay: 7n, type: 2 })
})
