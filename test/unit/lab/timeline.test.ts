// The lab's timeline builder on a hand-made record: offsets from the kernel timestamp, the RA frame
// chosen, xid matching, and every missing step named.
import t from 'tap'
import { buildTimeline, formatTimeline } from '../../../src/lab/timeline.js'
import type { ScenarioRecord } from '../../../src/lab/scenario.js'

const offsetNs = 1_000_000_000_000n // realtime = monotonic + 1000 s
const mono = (us: number) => (BigInt(us) * 1000n - offsetNs).toString()
const raLine = (kernelUs: number | undefined, receivedUs: number, extra = '') =>
  `{"msg":"RA accepted by the kernel","M":true${kernelUs === undefined ? '' : `,"kernelTimeNs":"${mono(kernelUs)}"`},"receivedMonotonicNs":"${mono(receivedUs)}"${extra}}`

function record(over: Partial<ScenarioRecord> = {}): ScenarioRecord {
  return {
    options: { name: 'lab', raSource: 'ra6mon', profile: 'rfc3315', onRa: 'auto', order: 'daemon-first', extraRa: false, timeoutMs: 1 },
    ok: true, command: 'ra6dhcp run eth0', clockOffsetNs: offsetNs.toString(),
    daemonLog: `{"msg":"ra6dhcp running"}\n${raLine(5_000_100, 5_000_600)}\n`,
    capture: [
      { timeUs: 4_000_000, kind: 'RA' }, { timeUs: 5_000_000, kind: 'RA' },
      { timeUs: 5_001_000, kind: 'Solicit', xid: '0x01' }, { timeUs: 5_002_000, kind: 'Advertise', xid: '0x01' },
      { timeUs: 5_003_000, kind: 'Advertise', xid: '0x99' }, { timeUs: 6_002_000, kind: 'Request', xid: '0x02' },
      { timeUs: 6_003_000, kind: 'Reply', xid: '0x02' },
    ],
    addressEvents: [{ timeUs: 6_004_000, address: '2001:db8::100', deleted: false }],
    lease: { data: { serverDuid: '000100ab', serverAddress: 'fe80::1', dnsServers: [], iaNa: [{ t1: 10, t2: 16, addresses: [{ address: '2001:db8::100', preferredLifetime: 20, validLifetime: 30 }] }] } },
    keaLeases: [], marks: {}, wallMs: 1, ...over,
  }
}

t.test('a complete run: offsets from the kernel timestamp, in order', async t => {
  const tl = buildTimeline(record())
  t.same(tl.missing, [])
  t.equal(tl.originIs, 'kernel')
  t.same(tl.steps.map(s => [s.what.split(' (')[0], (s.timeUs - tl.originUs) / 1000]), [
    ['RA on the wire', -0.1], ['RA accepted by the kernel', 0], ['notification received by ra6dhcp', 0.5],
    ['Solicit sent', 0.9], ['Advertise received', 1.9], ['Request sent', 1001.9], ['Reply received', 1002.9],
    ['address 2001:db8::100/128 configured on eth0', 1003.9],
  ])
  const text = formatTimeline(tl)
  t.match(text, /\+0\.500 ms {2}notification received by ra6dhcp/)
  t.match(text, /server DUID {2}00:01:00:ab \(from fe80::1\)/)
  t.match(text, /T1 \/ T2 {6}10 s \/ 16 s/)
})

t.test('rtnetlink (no kernel timestamp): offsets from the RA on the wire', async t => {
  const tl = buildTimeline(record({ daemonLog: raLine(undefined, 5_000_600) }))
  t.equal(tl.originIs, 'wire')
  t.equal(tl.originUs, 5_000_000)
  t.notOk(tl.steps.some(s => s.what.startsWith('RA accepted')))
})

t.test('missing steps are named, never invented', async t => {
  const tl = buildTimeline(record({ capture: [{ timeUs: 5_000_000, kind: 'RA' }, { timeUs: 5_001_000, kind: 'Solicit', xid: '0x01' }], addressEvents: [], lease: undefined }))
  t.same(tl.missing, ['no Advertise in the capture', 'no Request in the capture', 'no Reply in the capture',
    'no address appeared on eth0 after the Reply', 'the daemon wrote no lease file'])
  t.match(formatTimeline(tl), /MISSING: no Reply in the capture/)
  t.same(buildTimeline(record({ daemonLog: '' })).missing.slice(0, 1), ['the daemon logged no RA with M=1'])
})
