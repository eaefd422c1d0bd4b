// End to end in the VM with ra6mon.ko: radvd (M=1) + Kea in a router namespace, `ra6dhcp run eth0
// --ra-source ra6mon` in a client namespace (guest/client-e2e.sh runs src/lab/scenario.ts three
// times in one boot). Asserts, from the raw records: RA -> ra6mon notification in the daemon log ->
// Solicit -> Advertise -> Request -> Reply -> address on eth0 and lease in Kea; the replay path
// (RA accepted before the daemon starts, no RA after it); `--on-ra solicit` vs `--on-ra auto`.
import t from 'tap'
import { need } from '../lib/requirements.js'
import { ensureModule, runVm, vmKernelRelease, vmNeeds } from './lib/vm.js'
import { captureRows, type CaptureRow, type ScenarioRecord } from '../../src/lab/scenario.js'

interface LogLine { msg?: string; time?: string; M?: boolean; replayed?: boolean; kernelTimeNs?: string; receivedMonotonicNs?: string; raSource?: string; duid?: string; elapsed?: string; xid?: string }

const logOf = (r: ScenarioRecord): LogLine[] => r.daemonLog.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as LogLine)
const raLines = (r: ScenarioRecord) => logOf(r).filter(l => l.msg === 'RA accepted by the kernel')
/** Kernel/daemon monotonic ns to realtime µs, with the offset the guest sampled. */
const toUs = (r: ScenarioRecord, ns: string) => Number((BigInt(ns) + BigInt(r.clockOffsetNs)) / 1000n)
const solicitsAfter = (rows: CaptureRow[], us: number) => rows.filter(x => x.kind === 'Solicit' && x.timeUs > us)

t.test('ra6dhcp with ra6mon.ko in the VM: RA -> notification -> Solicit -> lease, replay at start, --on-ra solicit', async t => {
  if (!need(t, { ...vmNeeds(), commands: [...(vmNeeds().commands ?? []), 'tshark'] })) return
  ensureModule(vmKernelRelease()!)
  const vm = await runVm({ script: 'test/vm/guest/client-e2e.sh', timeoutMs: 420_000, cpus: 2 })
  t.equal(vm.failure, undefined, `the VM ran to the end (console tail: ${vm.console.slice(-1500)})`)
  t.equal(vm.exitCode, 0, `guest script exit code (output tail: ${vm.scriptOutput.slice(-3000)})`)
  for (const r of vm.results) t.ok(r.ok, `guest: ${r.name} ${r.detail}`)
  t.equal(vm.files.get('e2e/netns-left.txt')?.trim(), '', 'every scenario deleted its namespaces')
  t.same(vm.dmesgProblems, [], 'dmesg clean')

  const load = (name: string): { r: ScenarioRecord; rows: CaptureRow[] } | undefined => {
    const text = vm.files.get(`e2e/${name}.json`)
    if (!text) return undefined
    const r = JSON.parse(text) as ScenarioRecord
    return { r, rows: captureRows(r) }
  }

  t.test('live RA (daemon first, --on-ra auto)', async t => {
    const s = load('live')
    if (!s) { t.fail('no record e2e/live.json'); return }
    const { r, rows } = s
    t.equal(r.error, undefined, 'no scenario error')
    t.ok(r.ok, 'the lease was obtained in time')
    t.ok(logOf(r).some(l => l.msg === 'ra6dhcp running' && l.raSource === 'ra6mon'), 'the daemon runs on the ra6mon source')
    const ra = raLines(r)[0]
    t.ok(ra?.M === true && ra.replayed === undefined, 'the first RA event is live, with M=1')
    t.ok(ra?.kernelTimeNs, 'it carries the kernel receive timestamp (ra6mon)')
    if (!ra?.kernelTimeNs || !ra.receivedMonotonicNs) return
    t.ok(BigInt(ra.kernelTimeNs) <= BigInt(ra.receivedMonotonicNs), 'the daemon heard of it after the kernel accepted it')
    const kernelUs = toUs(r, ra.kernelTimeNs)
    const notifiedUs = toUs(r, ra.receivedMonotonicNs)
    t.ok(rows.some(x => x.kind === 'RA' && x.timeUs <= kernelUs + 1000), 'the RA is on the wire before the kernel timestamp (within 1 ms)')
    const solicit = solicitsAfter(rows, notifiedUs)[0]
    t.ok(solicit, 'a Solicit follows the notification')
    t.notOk(rows.some(x => x.kind === 'Solicit' && x.timeUs < notifiedUs), 'no Solicit before the notification')
    t.ok(solicit && solicit.timeUs - kernelUs < 5_000_000, `Solicit ${solicit ? ((solicit.timeUs - kernelUs) / 1000).toFixed(1) : '?'} ms after the RA (under 5 s with --sol-max-delay 0, TCG)`)
    t.equal(logOf(r).find(l => l.msg === 'sent Solicit')?.elapsed, '0.00s', 'its Elapsed Time is 0')
    const advertise = rows.find(x => x.kind === 'Advertise' && x.xid === solicit?.xid)
    t.ok(advertise, 'Kea advertised (same xid)')
    const request = rows.find(x => x.kind === 'Request' && x.timeUs > (advertise?.timeUs ?? Infinity))
    t.ok(request, 'then a Request')
    t.ok(rows.some(x => x.kind === 'Reply' && x.xid === request?.xid), 'and Kea\'s Reply (same xid)')
    t.match(r.address, /^2001:db8:6a::1[0-9a-f]{2}$/, `an address from Kea's pool on eth0 (${r.address})`)
    const duid = logOf(r).find(l => l.msg === 'created the DUID')?.duid
    const kea = r.keaLeases.find(l => l.address === r.address)
    t.ok(kea, 'Kea\'s lease file holds that address')
    t.equal(kea?.duid.replace(/:/g, ''), duid, 'for the daemon\'s DUID')
    const stored = (r.lease as { data?: { iaNa?: Array<{ addresses: Array<{ address: string }> }> } }).data
    t.equal(stored?.iaNa?.[0]?.addresses[0]?.address, r.address, 'the daemon\'s lease file holds it too')
    const extraAt = r.marks.extraRaStarted
    t.ok(extraAt, 'a second RA was sent while bound')
    if (extraAt) {
      t.ok(raLines(r).length >= 2, `the daemon logged the second RA (${raLines(r).length} RA events)`)
      t.same(solicitsAfter(rows, extraAt), [], '--on-ra auto: no new Solicit for an RA while bound')
    }
  })

  t.test('replay: the RA was accepted before the daemon started', async t => {
    const s = load('replay')
    if (!s) { t.fail('no record e2e/replay.json'); return }
    const { r, rows } = s
    t.equal(r.error, undefined, 'no scenario error')
    t.ok(r.ok, 'the lease was obtained in time')
    const killed = r.marks.radvdKilled
    const started = r.marks.daemonStarted
    if (!t.ok(killed && started, 'radvd was killed, then the daemon started')) return
    t.ok(rows.some(x => x.kind === 'RA' && x.timeUs < killed!), 'radvd\'s RA is in the capture')
    t.same(rows.filter(x => x.kind === 'RA' && x.timeUs > killed!), [], 'no RA on the wire after radvd was killed')
    const ra = raLines(r)[0]
    t.equal(ra?.replayed, true, 'the daemon\'s first RA event is the replayed one')
    t.equal(ra?.M, true, 'with M=1')
    t.ok(ra?.kernelTimeNs && toUs(r, ra.kernelTimeNs) < started!, 'its kernel timestamp predates the daemon')
    const running = logOf(r).find(l => l.msg === 'ra6dhcp running')
    const runningUs = running?.time ? Date.parse(running.time) * 1000 : undefined
    const solicit = rows.find(x => x.kind === 'Solicit')
    t.ok(solicit, 'the daemon solicited')
    if (solicit && runningUs) {
      // The replay arrives while the RA source starts, so the Solicit may precede the "running" line.
      t.ok(solicit.timeUs - runningUs < 3_000_000, `Solicit ${((solicit.timeUs - runningUs) / 1000).toFixed(0)} ms after the daemon said it was running, ${((solicit.timeUs - started!) / 1000).toFixed(0)} ms after its process started (node start-up under TCG included; a Ready Logo tester waits 30 s)`)
    }
    t.match(r.address, /^2001:db8:6a::1[0-9a-f]{2}$/, `address on eth0 (${r.address})`)
    t.ok(r.keaLeases.some(l => l.address === r.address), 'and in Kea\'s lease file')
  })

  t.test('--on-ra solicit: an RA while bound starts a Solicit', async t => {
    const s = load('solicit')
    if (!s) { t.fail('no record e2e/solicit.json'); return }
    const { r, rows } = s
    t.equal(r.error, undefined, 'no scenario error')
    t.ok(r.ok, 'the first lease was obtained')
    const extraAt = r.marks.extraRaStarted
    if (!t.ok(extraAt, 'a second RA was sent while bound')) return
    t.ok(rows.some(x => x.kind === 'RA' && x.timeUs > extraAt!), 'the second RA is on the wire')
    const second = raLines(r).filter(l => l.receivedMonotonicNs && toUs(r, l.receivedMonotonicNs) > extraAt!)
    t.ok(second.length >= 1, 'the daemon was notified of it')
    const firstXid = rows.find(x => x.kind === 'Solicit')?.xid
    const again = solicitsAfter(rows, extraAt!)
    t.ok(again.length >= 1, 'a new Solicit followed it')
    t.not(again[0]?.xid, firstXid, 'a new exchange (new xid)')
  })
})
