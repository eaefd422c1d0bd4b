import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { decodeHexText, decodePcapFile } from '../../../src/cli/commands/decode.js'
import { encodeJsonText } from '../../../src/cli/commands/encode.js'
import { UsageError } from '../../../src/cli/usage-error.js'
import { need } from '../../lib/requirements.js'
import { loadVectors, vectorsDir } from '../../fuzz/corpus.js'

const vectors = loadVectors()
const keaAdvertise = vectors.find(v => v.id === 'kea-dhclient-iana#3') ?? vectors.find(v => v.server === 'kea' && v.msgType === 2)!

t.test('decode of a captured Kea Advertise prints the right tree', async t => {
  const tree = decodeHexText(keaAdvertise.hex, false).split('\n')
  const f = keaAdvertise.tshark
  const xid = f['dhcpv6.xid']![0]!
  t.equal(tree[0], `Advertise (2) transaction-id ${xid}`)
  // every option, in wire order, nested under its parent: the IA Address is indented under the IA_NA
  const optionLines = tree.slice(1).filter(l => l.trim() !== '')
  t.same(optionLines.map(l => Number(/\((\d+)\)/.exec(l)?.[1])), f['dhcpv6.option.type']!.map(Number))
  const iaNa = optionLines.find(l => l.includes('IA_NA (3)'))!
  t.match(iaNa, new RegExp(`^  IA_NA \\(3\\): IAID \\d+ \\(0x${f['dhcpv6.iaid']![0]}\\) T1 ${f['dhcpv6.iaid.t1']![0]} T2 ${f['dhcpv6.iaid.t2']![0]}$`))
  t.equal(optionLines[optionLines.indexOf(iaNa) + 1],
    `    IA Address (5): ${f['dhcpv6.iaaddr.ip']![0]} preferred ${f['dhcpv6.iaaddr.pref_lifetime']![0]} valid ${f['dhcpv6.iaaddr.valid_lifetime']![0]}`)
  t.ok(optionLines.some(l => l === `  Server Identifier (2): DUID-EN enterprise ${f['dhcpv6.duiden.enterprise']![0]} id ${f['dhcpv6.duiden.identifier']![0]!.replace(/:/g, '')}`))
  t.ok(optionLines.some(l => l === `  DNS Recursive Name Server (23): ${f['dhcpv6.dns_server']!.join(', ')}`))
  t.notOk(tree.some(l => l.startsWith('!')), 'no semantic violations')
})

t.test('--json turns back into the same hex for every vector', async t => {
  for (const v of vectors) t.equal(encodeJsonText(decodeHexText(v.hex, true)), v.hex, v.id)
})

t.test('--pcap lists every DHCPv6 packet with its frame number', async t => {
  const capture = fileURLToPath(new URL(keaAdvertise.capture, vectorsDir))
  const result = decodePcapFile(capture, false)
  t.equal(result.malformed, 0)
  const frames = [...result.output.matchAll(/^frame (\d+) \[/gm)].map(m => Number(m[1]))
  t.same(frames, vectors.filter(v => v.capture === keaAdvertise.capture).map(v => v.frame))
  const json = JSON.parse(decodePcapFile(capture, true).output) as { frame: number }[]
  t.equal(encodeJsonText(JSON.stringify(json.find(e => e.frame === keaAdvertise.frame))), keaAdvertise.hex, 'a --pcap --json entry encodes back')
})

t.test('bad input names the problem and the fix', async t => {
  const usage = (fn: () => unknown, message: RegExp) => t.throws(fn, UsageError) && t.throws(fn, { message })
  usage(() => decodeHexText('0102030', false), /odd number of hex digits \(7\).*ra6dhcp decode 0102/)
  usage(() => decodeHexText('01g2', false), /'g' at position 3 is not a hex digit/)
  usage(() => decodeHexText('0200000100030028', false), /^malformed DHCPv6 message: option 3 \(IA_NA\) at offset 4 declares length 40 but only 0 bytes remain\. Pass only the UDP payload/)
  usage(() => decodePcapFile(fileURLToPath(new URL('packets.json', vectorsDir)), false), /not a pcap or pcapng file .*tshark -w FILE/)
  usage(() => decodePcapFile('/nonexistent/x.pcap', false), /cannot read --pcap \/nonexistent\/x\.pcap: ENOENT/)
  usage(() => encodeJsonText('{'), /not valid JSON .*ra6dhcp decode --json/)
  usage(() => encodeJsonText('{"type":"solicit","transactionId":99999999,"options":[]}'), /transactionId must be a 24-bit integer/)
  usage(() => encodeJsonText('{"type":"reply","transactionId":1,"options":[{"kind":"dns-servers","servers":["2001:db8::zz"]}]}'), /options\[0\]\.servers\[0\]: '2001:db8::zz' is not an IPv6 address/)
})

t.test('the built CLI exits 2 with one line and no stack trace on bad input, 0 on good', async t => {
  const cli = fileURLToPath(new URL('../../../dist/src/cli/main.js', import.meta.url))
  if (!need(t, { files: [cli] })) return
  const bad = spawnSync('node', [cli, 'decode', 'abc'], { encoding: 'utf8' })
  t.equal(bad.status, 2)
  t.equal(bad.stderr, 'ra6dhcp: the hex is not valid: odd number of hex digits (3): every byte needs two. Pass the UDP payload as hex digits, e.g. ra6dhcp decode 0102030400010000\n')
  const good = spawnSync('node', [cli, 'decode', '-'], { input: keaAdvertise.hex, encoding: 'utf8' })
  t.equal(good.status, 0)
  t.equal(good.stdout, decodeHexText(keaAdvertise.hex, false))
  const encoded = spawnSync('node', [cli, 'encode', '-'], { input: decodeHexText(keaAdvertise.hex, true), encoding: 'utf8' })
  t.equal(encoded.stdout, `${keaAdvertise.hex}\n`)
})
