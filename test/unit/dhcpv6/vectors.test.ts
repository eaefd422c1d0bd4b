// The codec against real peers: every captured vector round-trips byte for byte, and our decode
// agrees with tshark's field values; tshark decodes our encoder's output with no warnings.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  decodeMessage, encodeMessage, encodedLength, formatIpv6, optionCode, toHex, type Message, type Option,
} from '../../../src/dhcpv6/index.js'
import { dhcpv6Packets } from '../../../src/pcap/index.js'
import { need } from '../../lib/requirements.js'
import { handBuiltMessages, loadVectors, vectorsDir } from '../../fuzz/corpus.js'

const vectors = loadVectors()
const colonHex = (b: Uint8Array) => Array.from(b, x => x.toString(16).padStart(2, '0')).join(':')

function optionBytes(o: Option): Uint8Array {
  // the option's own encoding, cut out of a one-option message
  return encodeMessage({ type: 'reply', transactionId: 0, options: [o] }).subarray(4)
}

/** Our decode, expressed as tshark's dhcpv6 field names -> values in document order. */
function tsharkView(msg: Message): Record<string, string[]> {
  const f: Record<string, string[]> = {}
  const add = (name: string, value: string | number) => (f[name] ??= []).push(String(value))
  const walkOptions = (options: Option[]) => {
    for (const o of options) {
      const wire = optionBytes(o)
      add('dhcpv6.option.type', optionCode(o))
      add('dhcpv6.option.length', wire.length - 4)
      switch (o.kind) {
        case 'client-id':
        case 'server-id': {
          const d = o.duid
          add('dhcpv6.duid.bytes', colonHex(wire.subarray(4)))
          add('dhcpv6.duid.type', (wire[4]! << 8) | wire[5]!)
          if (d.type === 'llt') {
            add('dhcpv6.duidllt.hwtype', d.hardwareType)
            add('dhcpv6.duidllt.time', `@${Date.UTC(2000, 0, 1) / 1000 + d.time}`)
            add('dhcpv6.duidllt.link_layer_addr', colonHex(d.linkLayerAddress))
          } else if (d.type === 'en') {
            add('dhcpv6.duiden.enterprise', d.enterpriseNumber)
            add('dhcpv6.duiden.identifier', colonHex(d.identifier))
          } else if (d.type === 'll') {
            add('dhcpv6.duidll.hwtype', d.hardwareType)
            add('dhcpv6.duidll.link_layer_addr', colonHex(d.linkLayerAddress))
          }
          break
        }
        case 'ia-na':
        case 'ia-pd':
          add('dhcpv6.iaid', o.iaid.toString(16).padStart(8, '0'))
          add('dhcpv6.iaid.t1', o.t1)
          add('dhcpv6.iaid.t2', o.t2)
          break
        case 'ia-address':
          add('dhcpv6.iaaddr.ip', formatIpv6(o.address))
          add('dhcpv6.iaaddr.pref_lifetime', o.preferredLifetime)
          add('dhcpv6.iaaddr.valid_lifetime', o.validLifetime)
          break
        case 'ia-prefix':
          add('dhcpv6.iaprefix.pref_lifetime', o.preferredLifetime)
          add('dhcpv6.iaprefix.valid_lifetime', o.validLifetime)
          add('dhcpv6.iaprefix.pref_len', o.prefixLength)
          add('dhcpv6.iaprefix.pref_addr', formatIpv6(o.prefix))
          break
        case 'oro': for (const c of o.codes) add('dhcpv6.requested_option_code', c); break
        case 'elapsed-time': add('dhcpv6.elapsed_time', o.hundredths * 10); break // tshark shows ms
        case 'status-code': add('dhcpv6.status_code', o.status); add('dhcpv6.status_msg', o.message); break
        case 'dns-servers': for (const s of o.servers) add('dhcpv6.dns_server', formatIpv6(s)); break
        case 'domain-list': for (const d of o.domains) add('dhcpv6.search_list_entry', d); break
        case 'preference': add('dhcpv6.option_preference', o.value); break
        case 'information-refresh-time': add('dhcpv6.lifetime', o.seconds); break
        case 'server-unicast': add('dhcpv6.unicast', formatIpv6(o.address)); break
        case 'vendor-class':
          add('dhcpv6.vendorclass.enterprise', o.enterpriseNumber)
          for (const d of o.data) add('dhcpv6.vendorclass.data', Buffer.from(d).toString('latin1'))
          break
      }
      if (o.kind === 'relay-message') walkMessage(o.message)
      else if ('options' in o) walkOptions(o.options)
    }
  }
  const walkMessage = (m: Message) => {
    if (m.type === 'unknown') return
    add('dhcpv6.msgtype', encodeMessage(m)[0]!)
    if ('transactionId' in m) add('dhcpv6.xid', `0x${m.transactionId.toString(16).padStart(6, '0')}`)
    walkOptions(m.options)
  }
  walkMessage(msg)
  return f
}

/** tshark prints DUID-LLT time as "Nov 22, 2026 06:42:05.000000000 UTC"; compare as epoch seconds. */
function normaliseTshark(name: string, value: string): string {
  if (name !== 'dhcpv6.duidllt.time') return value
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)/.exec(value)
  if (!m) return value
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(m[1]!)
  return `@${Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000}`
}

const notCompared = new Set(['dhcpv6.option.type_str'])

t.test('vectors are present and cover the exchanges the codec must handle', async t => {
  t.ok(vectors.length >= 20, `${vectors.length} vectors`)
  const types = new Set(vectors.map(v => v.msgType))
  for (const type of [1, 2, 3, 5, 6, 7, 8, 9, 11]) t.ok(types.has(type), `a vector of message type ${type}`)
})

t.test('every vector round-trips byte for byte', async t => {
  for (const v of vectors) {
    const msg = decodeMessage(Buffer.from(v.hex, 'hex'))
    t.equal(toHex(encodeMessage(msg)), v.hex, v.id)
    t.equal(encodedLength(msg), v.hex.length / 2, `${v.id} encodedLength`)
  }
})

t.test('the payload at each vector frame of its capture is the vector', async t => {
  const byCapture = new Map<string, typeof vectors>()
  for (const v of vectors) byCapture.set(v.capture, [...(byCapture.get(v.capture) ?? []), v])
  for (const [capture, list] of byCapture) {
    const packets = dhcpv6Packets(readFileSync(new URL(capture, vectorsDir)))
    for (const v of list) t.equal(toHex(packets.find(p => p.frame === v.frame)?.payload ?? new Uint8Array()), v.hex, `${v.id} in ${capture}`)
  }
})

t.test("our decode agrees with tshark's field values", async t => {
  const unchecked = new Set<string>()
  for (const v of vectors) {
    const ours = tsharkView(decodeMessage(Buffer.from(v.hex, 'hex')))
    for (const [name, values] of Object.entries(v.tshark)) {
      if (notCompared.has(name)) continue
      if (!(name in ours) && !name.startsWith('dhcpv6.option')) {
        unchecked.add(name)
        continue
      }
      t.same(ours[name], values.map(x => normaliseTshark(name, x)), `${v.id} ${name}`)
    }
    for (const name of Object.keys(ours)) t.ok(name in v.tshark, `${v.id}: tshark also shows ${name}`)
  }
  if (unchecked.size > 0) t.comment(`tshark fields present in vectors but not compared: ${[...unchecked].join(', ')}`)
  t.ok(vectors.some(v => v.server === 'kea' && v.msgType === 2), 'a Kea Advertise is among them')
})

// ---- tshark reads our encoder's output ----

function udpOverIpv6(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  const src = Uint8Array.from(Buffer.from('fe800000000000000000000000000001', 'hex'))
  const dst = Uint8Array.from(Buffer.from('fe800000000000000000000000000002', 'hex'))
  const udpLength = 8 + payload.length
  const frame = Buffer.alloc(14 + 40 + udpLength)
  Buffer.from('020000000002020000000001', 'hex').copy(frame, 0)
  frame.writeUInt16BE(0x86dd, 12)
  frame.writeUInt32BE(0x60000000, 14)
  frame.writeUInt16BE(udpLength, 18)
  frame[20] = 17
  frame[21] = 64
  frame.set(src, 22)
  frame.set(dst, 38)
  const udp = 54
  frame.writeUInt16BE(srcPort, udp)
  frame.writeUInt16BE(dstPort, udp + 2)
  frame.writeUInt16BE(udpLength, udp + 4)
  frame.set(payload, udp + 8)
  // checksum over the IPv6 pseudo-header (RFC 8200 section 8.1) and the UDP datagram
  let sum = 0
  const add16 = (b: Uint8Array, i: number) => { sum += (b[i]! << 8) | (b[i + 1] ?? 0) }
  for (let i = 0; i < 16; i += 2) { add16(src, i); add16(dst, i) }
  sum += udpLength + 17
  const datagram = frame.subarray(udp)
  for (let i = 0; i < datagram.length; i += 2) add16(datagram, i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  frame.writeUInt16BE((~sum & 0xffff) || 0xffff, udp + 6)
  return frame
}

function pcapFile(frames: Uint8Array[]): Buffer {
  const header = Buffer.alloc(24)
  header.writeUInt32LE(0xa1b2c3d4, 0)
  header.writeUInt16LE(2, 4)
  header.writeUInt16LE(4, 6)
  header.writeUInt32LE(65535, 16)
  header.writeUInt32LE(1, 20)
  const records = frames.map((f, i) => {
    const r = Buffer.alloc(16)
    r.writeUInt32LE(1700000000 + i, 0)
    r.writeUInt32LE(f.length, 8)
    r.writeUInt32LE(f.length, 12)
    return Buffer.concat([r, f])
  })
  return Buffer.concat([header, ...records])
}

t.test('tshark decodes our encoder output with no malformed-packet or expert warnings', async t => {
  if (!need(t, { commands: ['tshark'] })) return
  const dir = mkdtempSync(join(tmpdir(), 'ra6dhcp-codec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const messages = handBuiltMessages()
  const ports = (m: Message): [number, number] => (m.type === 'relay-forw' ? [547, 547] : m.type === 'solicit' ? [546, 547] : [547, 546])
  const file = join(dir, 'encoded.pcap')
  writeFileSync(file, pcapFile(messages.map(m => udpOverIpv6(encodeMessage(m), ...ports(m)))))
  const pdml = execFileSync('tshark', ['-n', '-r', file, '-T', 'pdml', '-o', 'udp.check_checksum:TRUE'], { encoding: 'utf8', maxBuffer: 64 << 20 })
  const packets = pdml.split('<packet>').slice(1)
  t.equal(packets.length, messages.length, 'one packet per message')
  packets.forEach((p, i) => {
    const what = messages[i]!.type
    t.notMatch(p, /name="_ws\.malformed"/, `${what}: no malformed-packet item`)
    const experts = [...p.matchAll(/name="_ws\.expert[^"]*" showname="([^"]*)"/g)].map(m => m[1])
    t.same(experts, [], `${what}: no expert items`)
    t.match(p, /name="dhcpv6"/, `${what}: tshark sees DHCPv6`)
    // the option codes tshark found, in order, are ours
    const theirs = [...p.matchAll(/<field name="dhcpv6\.option\.type" [^>]*show="(\d+)"/g)].map(m => Number(m[1]))
    const ours = tsharkView(messages[i]!)['dhcpv6.option.type']!.map(Number)
    t.same(theirs, ours, `${what}: option codes in document order`)
  })
})
