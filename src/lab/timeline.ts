// The lab's timeline: from one ScenarioRecord (daemon JSON log, capture of eth0, `ip monitor`
// address events, the lease file), the steps RA -> kernel -> daemon -> Solicit -> Advertise ->
// Request -> Reply -> address, each with its offset from the moment the kernel accepted the RA
// (ra6mon's timestamp) or, without ra6mon (rtnetlink has no timestamp), from the RA on the wire.
// Pure: no I/O, so it is unit-tested on recorded data.
import type { CaptureRow, ScenarioRecord } from './scenario.js'

export interface TimelineStep {
  /** µs, realtime. */
  timeUs: number
  what: string
  /** Where the time comes from. */
  source: string
}

export interface LeaseSummary {
  address: string
  preferredLifetime: number
  validLifetime: number
  t1: number
  t2: number
  serverDuid: string
  serverAddress?: string
  dnsServers: string[]
}

export interface Timeline {
  /** µs, realtime, of offset 0. */
  originUs: number
  originIs: 'kernel' | 'wire'
  steps: TimelineStep[]
  lease?: LeaseSummary
  /** What could not be found (each one a reason the lab failed). */
  missing: string[]
}

interface LogLine { msg?: string; M?: boolean; kernelTimeNs?: string; receivedMonotonicNs?: string; replayed?: boolean; xid?: string }

function logLines(text: string): LogLine[] {
  const lines: LogLine[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try { lines.push(JSON.parse(line) as LogLine) } catch { /* a partial last line */ }
  }
  return lines
}

/** CLOCK_MONOTONIC ns (decimal string) to realtime µs, with the record's sampled offset. */
function monotonicToRealtimeUs(ns: string, offsetNs: string): number {
  return Number((BigInt(ns) + BigInt(offsetNs)) / 1000n)
}

function leaseSummary(lease: unknown): LeaseSummary | undefined {
  const data = (lease as { data?: Record<string, unknown> } | undefined)?.data
  const ia = (data?.iaNa as Array<{ t1: number; t2: number; addresses: Array<{ address: string; preferredLifetime: number; validLifetime: number }> }> | undefined)?.[0]
  const address = ia?.addresses[0]
  if (!data || !ia || !address) return undefined
  const summary: LeaseSummary = {
    address: address.address, preferredLifetime: address.preferredLifetime, validLifetime: address.validLifetime,
    t1: ia.t1, t2: ia.t2, serverDuid: String(data.serverDuid), dnsServers: (data.dnsServers as string[] | undefined) ?? [],
  }
  if (typeof data.serverAddress === 'string') summary.serverAddress = data.serverAddress
  return summary
}

/** `capture`: the record's capture rows (captureRows(record) when it holds a raw capture). */
export function buildTimeline(record: ScenarioRecord, capture: CaptureRow[] = record.capture): Timeline {
  const missing: string[] = []
  const steps: TimelineStep[] = []
  const ra = logLines(record.daemonLog).find(l => l.msg === 'RA accepted by the kernel' && l.M === true)
  let originUs: number | undefined
  let originIs: Timeline['originIs'] = 'kernel'
  let notifiedUs: number | undefined
  if (!ra) missing.push('the daemon logged no RA with M=1')
  if (ra?.receivedMonotonicNs) notifiedUs = monotonicToRealtimeUs(ra.receivedMonotonicNs, record.clockOffsetNs)
  const kernelUs = ra?.kernelTimeNs ? monotonicToRealtimeUs(ra.kernelTimeNs, record.clockOffsetNs) : undefined
  // The RA frame the kernel accepted: the last one captured before the daemon heard of it.
  const before = notifiedUs ?? kernelUs
  const wire = before === undefined ? undefined : capture.filter(r => r.kind === 'RA' && r.timeUs <= before).at(-1)
  if (wire) steps.push({ timeUs: wire.timeUs, what: 'RA on the wire (eth0)', source: 'capture' })
  else if (!ra?.replayed) missing.push('no RA in the capture before the notification')
  if (kernelUs !== undefined) {
    steps.push({ timeUs: kernelUs, what: `RA accepted by the kernel${ra?.replayed ? ' (replayed at registration)' : ''}`, source: 'ra6mon timestamp' })
    originUs = kernelUs
  } else if (wire) {
    originUs = wire.timeUs
    originIs = 'wire'
  }
  if (notifiedUs !== undefined) steps.push({ timeUs: notifiedUs, what: 'notification received by ra6dhcp', source: 'daemon log' })

  const after = (t: number | undefined, kind: string, xid?: string) =>
    t === undefined ? undefined : capture.find(r => r.kind === kind && r.timeUs >= t && (xid === undefined || r.xid === xid))
  const solicit = after(notifiedUs ?? originUs, 'Solicit')
  const advertise = after(solicit?.timeUs, 'Advertise', solicit?.xid)
  const request = after(advertise?.timeUs, 'Request')
  const reply = after(request?.timeUs, 'Reply', request?.xid)
  for (const [row, label] of [[solicit, 'Solicit sent'], [advertise, 'Advertise received'], [request, 'Request sent'], [reply, 'Reply received']] as const) {
    if (row) steps.push({ timeUs: row.timeUs, what: `${label} (xid ${row.xid ?? '?'})`, source: 'capture' })
    else missing.push(`no ${label.split(' ')[0]} in the capture`)
  }
  const address = reply && record.addressEvents.find(e => !e.deleted && e.timeUs >= reply.timeUs)
  if (address) steps.push({ timeUs: address.timeUs, what: `address ${address.address}/128 configured on eth0`, source: 'ip monitor' })
  else missing.push('no address appeared on eth0 after the Reply')
  const lease = leaseSummary(record.lease)
  if (!lease) missing.push('the daemon wrote no lease file')
  if (originUs === undefined) missing.push('no origin: neither a kernel timestamp nor a captured RA')
  const timeline: Timeline = { originUs: originUs ?? steps[0]?.timeUs ?? 0, originIs, steps, missing }
  if (lease) timeline.lease = lease
  return timeline
}

const lifetime = (s: number) => (s === 0xffffffff ? 'infinite' : `${s} s`)

export function formatTimeline(timeline: Timeline): string {
  const lines: string[] = []
  const origin = timeline.originIs === 'kernel' ? 'the kernel accepting the RA' : 'the RA on the wire (rtnetlink gives no kernel timestamp)'
  lines.push(`timeline (ms from ${origin}):`)
  for (const step of timeline.steps) {
    const ms = (step.timeUs - timeline.originUs) / 1000
    lines.push(`  ${`${ms >= 0 ? '+' : ''}${ms.toFixed(3)}`.padStart(10)} ms  ${step.what.padEnd(52)} [${step.source}]`)
  }
  const l = timeline.lease
  if (l) {
    lines.push('lease:')
    lines.push(`  address      ${l.address}/128 on eth0`)
    lines.push(`  lifetimes    preferred ${lifetime(l.preferredLifetime)}, valid ${lifetime(l.validLifetime)} (as received)`)
    lines.push(`  T1 / T2      ${lifetime(l.t1)} / ${lifetime(l.t2)}`)
    lines.push(`  server DUID  ${l.serverDuid.replace(/(..)(?!$)/g, '$1:')}${l.serverAddress ? ` (from ${l.serverAddress})` : ''}`)
    if (l.dnsServers.length) lines.push(`  DNS          ${l.dnsServers.join(', ')}`)
  }
  for (const m of timeline.missing) lines.push(`MISSING: ${m}`)
  return lines.join('\n')
}
