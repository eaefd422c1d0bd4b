// Decoders: netlink framing, ND options, ra6mon events and stats, built byte by byte in the test.
import t from 'tap'
import { decodeNdOptions, formatIpv6 } from '../../../src/ra/nd-options.js'
import { decodeAck, splitMessages, parseAttributes, MalformedMessageError } from '../../../src/ra/netlink.js'
import { decodeRa6monEvent, decodeRa6monStats, encodeRegister, encodeGetStats } from '../../../src/ra/ra6mon-protocol.js'
import {
  ipv6, nlack, nlattr, nlmsg, ndDnssl, ndMtu, ndPrefix, ndRdnss, ndRoute, ndSlla, ra6monEvent, u32, u64,
} from './fixtures/helpers.js'

t.test('IPv6 text form follows RFC 5952', async t => {
  const cases: Array<[string, string]> = [
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:a8bb:ccff:fedd:eeff', 'fe80::a8bb:ccff:fedd:eeff'],
    ['ff02:0:0:0:0:0:0:1', 'ff02::1'],
  ]
  for (const [long, short] of cases) {
    const bytes = Buffer.alloc(16)
    long.split(':').forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2))
    t.equal(formatIpv6(bytes), short, long)
  }
  t.throws(() => formatIpv6(Buffer.alloc(4)), RangeError)
})

t.test('ND options decode per RFC 4861, 4191, 8106', async t => {
  const area = Buffer.concat([
    ndSlla('02:00:5e:10:00:01'),
    ndMtu(1480),
    ndPrefix('2001:db8:1::', 64, 0xc0, 86400, 14400),
    ndPrefix('2001:db8:2::', 48, 0x20, 0xffffffff, 0),
    ndRoute('2001:db8:100::', 40, 1, 3600, 2),
    ndRoute('::', 0, 3, 60, 1),
    ndRdnss(600, ['2001:db8::53', '2001:db8::54']),
    ndDnssl(1200, ['example.com', 'lab.example.org']),
    Buffer.from([38, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]), // PREF64: kept raw
  ])
  const { options, malformed } = decodeNdOptions(area)
  t.equal(malformed, undefined)
  t.same(options.map(o => o.kind), ['sourceLinkLayerAddress', 'mtu', 'prefixInformation', 'prefixInformation',
    'routeInformation', 'routeInformation', 'rdnss', 'dnssl', 'raw'])
  t.same(options[0], { kind: 'sourceLinkLayerAddress', address: '02:00:5e:10:00:01' })
  t.same(options[1], { kind: 'mtu', mtu: 1480 })
  t.same(options[2], {
    kind: 'prefixInformation', prefix: '2001:db8:1::', prefixLength: 64, onLink: true, autonomous: true,
    routerAddress: false, validLifetime: 86400, preferredLifetime: 14400,
  })
  t.match(options[3], { prefixLength: 48, onLink: false, autonomous: false, routerAddress: true, validLifetime: 0xffffffff })
  t.same(options[4], { kind: 'routeInformation', prefix: '2001:db8:100::', prefixLength: 40, preference: 'high', routeLifetime: 3600 })
  t.same(options[5], { kind: 'routeInformation', prefix: '::', prefixLength: 0, preference: 'low', routeLifetime: 60 })
  t.same(options[6], { kind: 'rdnss', lifetime: 600, servers: ['2001:db8::53', '2001:db8::54'] })
  t.same(options[7], { kind: 'dnssl', lifetime: 1200, domains: ['example.com', 'lab.example.org'] })
  t.match(options[8], { kind: 'raw', type: 38 })
  t.equal((options[8] as { data: Buffer }).data.length, 14)
})

t.test('ND options that break their RFC are kept as invalid, with the reason', async t => {
  const shortPrefix = Buffer.alloc(16); shortPrefix.writeUInt8(3, 0); shortPrefix.writeUInt8(2, 1)
  const evenRdnss = Buffer.alloc(32); evenRdnss.writeUInt8(25, 0); evenRdnss.writeUInt8(4, 1)
  const longRoute = ndRoute('2001:db8::', 96, 0, 1, 2) // /96 needs 3 units
  const pointerDnssl = Buffer.alloc(16); pointerDnssl.writeUInt8(31, 0); pointerDnssl.writeUInt8(2, 1); pointerDnssl.writeUInt8(0xc0, 8)
  const { options, malformed } = decodeNdOptions(Buffer.concat([shortPrefix, evenRdnss, longRoute, pointerDnssl, ndMtu(1500)]))
  t.equal(malformed, undefined)
  t.same(options.map(o => o.kind), ['invalid', 'invalid', 'invalid', 'invalid', 'mtu'])
  t.match(options[0], { type: 3, reason: /must be 4/ })
  t.match(options[1], { type: 25, reason: /odd/ })
  t.match(options[2], { type: 24, reason: /does not fit/ })
  t.match(options[3], { type: 31, reason: /compression/ })
})

t.test('a broken option area stops decoding there and says why', async t => {
  const zero = decodeNdOptions(Buffer.concat([ndMtu(1500), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0])]))
  t.equal(zero.options.length, 1)
  t.match(zero.malformed, /length 0/)
  const past = decodeNdOptions(Buffer.concat([ndMtu(1500), Buffer.from([5, 2, 0, 0, 0, 0, 0, 0])]))
  t.match(past.malformed, /past the end/)
  t.match(decodeNdOptions(Buffer.from([1])).malformed, /stray byte/)
})

t.test('netlink framing: messages, attributes, acks', async t => {
  const two = Buffer.concat([nlmsg(0x12, 0, 0, Buffer.from([1, 2, 3])), nlmsg(3, 2, 9, u32(0))])
  const split = splitMessages(two)
  t.equal(split.malformed, 0)
  t.same(split.messages.map(m => [m.type, m.seq, m.payload.length]), [[0x12, 0, 3], [3, 9, 4]])

  const bad = Buffer.from(two)
  bad.writeUInt32LE(9999, 0)
  t.same(splitMessages(bad), { messages: [], malformed: 1 }, 'an impossible length ends the datagram')

  const attrs = parseAttributes(Buffer.concat([nlattr(1, u32(7)), nlattr(0x8000 | 2, Buffer.alloc(0))]))
  t.same(attrs.map(a => [a.type, a.value.length]), [[1, 4], [2, 0]], 'NLA_F_NESTED is masked off')
  const overrun = nlattr(1, u32(7)); overrun.writeUInt16LE(200, 0)
  t.throws(() => parseAttributes(overrun), MalformedMessageError)

  const ok = decodeAck(splitMessages(nlack(77, 0)).messages[0]!)
  t.same(ok, { error: 0, seq: 77 })
  const eperm = decodeAck(splitMessages(nlack(78, -1, 'ra6mon: registering needs CAP_NET_ADMIN in the namespace')).messages[0]!)
  t.same(eperm, { error: -1, seq: 78, kernelMessage: 'ra6mon: registering needs CAP_NET_ADMIN in the namespace' })
})

t.test('ra6mon requests are laid out as the header says', async t => {
  const plain = encodeRegister(5)
  t.equal(plain.toString('hex'), nlmsg(0x10, 0x05, 5, Buffer.alloc(0)).toString('hex'), 'REGISTER, REQUEST|ACK, no filter')
  const filtered = encodeRegister(6, [2, 7])
  const expected = nlmsg(0x10, 0x05, 6, nlattr(16, Buffer.concat([nlattr(2, u32(2)), nlattr(2, u32(7))])))
  t.equal(filtered.toString('hex'), expected.toString('hex'), 'filter nest of u32 RA6MON_A_IFINDEX')
  t.throws(() => encodeRegister(1, Array.from({ length: 33 }, (_, i) => i + 1)), /at most 32/)
  t.equal(encodeGetStats(9).readUInt16LE(4), 0x13)
})

t.test('ra6mon RA events decode into RaEvent', async t => {
  const options = Buffer.concat([ndSlla('02:00:00:00:00:01'), ndPrefix('2001:db8:1::', 64, 0xc0, 86400, 14400), ndRdnss(600, ['2001:db8::53'])])
  const message = splitMessages(ra6monEvent({
    ifindex: 3, ifname: 'eth1', router: 'fe80::1:2', daddr: 'ff02::1', hopLimit: 64,
    flags: 0x80 | 0x40 | 0x20 | 0x08 | 0x04, routerLifetime: 1800, reachable: 30000, retrans: 1000,
    timestampNs: 987654321012n, seq: 42n, replayed: true, options,
  }, 11)).messages[0]!
  const { event, optionProblem } = decodeRa6monEvent(message)
  t.equal(optionProblem, undefined)
  t.match(event, {
    source: 'ra6mon', ifindex: 3, ifname: 'eth1', router: 'fe80::1:2', destination: 'ff02::1',
    flags: { managed: true, other: true, homeAgent: true, preference: 'high', proxy: true },
    routerLifetime: 1800, reachableTime: 30000, retransTimer: 1000, curHopLimit: 64,
    kernelTimeNs: 987654321012n, clock: 1, seq: 42n, replayed: true,
  })
  t.same(event.options.map(o => o.kind), ['sourceLinkLayerAddress', 'prefixInformation', 'rdnss'])

  const prefs = [[0x00, 'medium'], [0x08, 'high'], [0x10, 'reserved'], [0x18, 'low']] as const
  for (const [bits, name] of prefs) {
    const e = decodeRa6monEvent(splitMessages(ra6monEvent({ flags: bits })).messages[0]!).event
    t.equal(e.flags.preference, name, `Prf bits ${bits.toString(16)}`)
    t.same([e.flags.managed, e.flags.other, e.replayed], [false, false, false])
  }
})

t.test('ra6mon events that are wrong are refused, not guessed', async t => {
  const wrongVersion = splitMessages(ra6monEvent({ abiVersion: 2 })).messages[0]!
  t.throws(() => decodeRa6monEvent(wrongVersion), /ABI version 2/)
  const noRouter = splitMessages(nlmsg(0x12, 0, 0, Buffer.concat([nlattr(1, u32(1)), nlattr(2, u32(2)), nlattr(7, Buffer.from([0]))]))).messages[0]!
  t.throws(() => decodeRa6monEvent(noRouter), MalformedMessageError)
  const shortRouter = splitMessages(nlmsg(0x12, 0, 0, Buffer.concat([nlattr(2, u32(2)), nlattr(4, Buffer.alloc(4)), nlattr(7, Buffer.from([0]))]))).messages[0]!
  t.throws(() => decodeRa6monEvent(shortRouter), /RA6MON_A_ROUTER is 4 bytes/)
  const brokenOptions = decodeRa6monEvent(splitMessages(ra6monEvent({ options: Buffer.concat([ndMtu(1500), Buffer.from([1, 0])]) })).messages[0]!)
  t.equal(brokenOptions.event.options.length, 1, 'the options before the break are kept')
  t.match(brokenOptions.optionProblem, /length 0/)
})

t.test('ra6mon stats decode by name, unknown counters generically', async t => {
  const pad = nlattr(1, Buffer.alloc(0))
  const nest = Buffer.concat([
    pad, nlattr(2, u64(10n)), pad, nlattr(3, u64(7n)), nlattr(8, u32(2)),
    pad, nlattr(0x20 + 6, u64(3n)), pad, nlattr(0x0b, u64(5n)), pad, nlattr(0x1f, u64(6n)),
  ])
  const message = splitMessages(nlmsg(0x14, 0, 4, Buffer.concat([nlattr(1, u32(1)), nlattr(17, nest)]))).messages[0]!
  t.same(decodeRa6monStats(message), { raSeen: 10n, raAccepted: 7n, clients: 2n, 'reject.checksum': 3n, raNotRemembered: 5n, stat31: 6n })
  t.same(ipv6('fe80::1').toString('hex'), 'fe800000000000000000000000000001', 'test helper sanity')
})
