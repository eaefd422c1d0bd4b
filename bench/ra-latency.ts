// bench/ra-latency: in the test VM, the time from ra6mon's kernel receive timestamp (CLOCK_MONOTONIC,
// taken in the netfilter hook) to RaMonitor's JS callback, p50/p99 over paced RAs, and events/s
// delivered under a back-to-back flood. Baseline, side by side in the same boot: the C test client
// (test/vm/client/ra6mon-client.c) registered in the same namespace, receiving the same RAs.
// Run as root: npm run bench:ra-latency [-- N INTERVAL_US FLOOD] (the guest side runs from dist/, so
// it compiles first; this file runs through tap's TypeScript loader, as test/vm/lib/vm.ts expects)
import { need } from '../test/lib/requirements.js'
import { ensureGuestTool, ensureModule, runVm, vmKernelRelease, vmNeeds } from '../test/vm/lib/vm.js'

const [count = '1000', intervalUs = '2000', flood = '20000'] = process.argv.slice(2)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN
}
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`

async function main(): Promise<number> {
  let missing = ''
  need({ pass: (m: string) => { missing = m }, fail: (m: string) => { missing = m } } as never, vmNeeds())
  if (missing) { process.stderr.write(`ra-latency: ${missing}\n`); return 2 }
  const release = vmKernelRelease()!
  ensureModule(release)
  ensureGuestTool('test/vm/client/ra6mon-client.c')
  const vm = await runVm({ script: 'test/vm/guest/ra-monitor.sh', args: ['bench', count, intervalUs, flood], timeoutMs: 600_000, cpus: Number(process.env.RA6_BENCH_CPUS ?? 1),
    env: { RA6_NODE_FLAGS: process.env.RA6_BENCH_NODE_FLAGS ?? '' } })
  const benchText = vm.files.get('ra-monitor/bench.json')
  if (vm.failure || !benchText) {
    process.stderr.write(`ra-latency: the VM run failed: ${vm.failure ?? 'no bench.json'}\n${vm.scriptOutput.slice(-3000)}\n`)
    return 1
  }
  const js = JSON.parse(benchText) as {
    paced: {
      events: number; p50Ns: string; p99Ns: string; maxNs: string; sent: number; intervalUs: number
      kernelToWakeupP50Ns: string; kernelToWakeupP99Ns: string; wakeupToCallbackP50Ns: string; wakeupToCallbackP99Ns: string
    }
    flood: { sent: { sent: number; seconds: number }; delivered: number; seconds: number; eventsPerSecond: number; overruns: number }
    kernel: Record<string, string>
  }
  const cEvents = (vm.files.get('ra-monitor/c-client.jsonl') ?? '').split('\n')
    .filter(l => l.startsWith('{"type":"event"') && !l.includes('"replayed":true'))
    .map(l => JSON.parse(l) as { recv_mono_ns: number; timestamp_ns: number })
  const cPaced = cEvents.slice(0, js.paced.sent).map(e => e.recv_mono_ns - e.timestamp_ns).sort((a, b) => a - b)
  const cFlood = cEvents.slice(js.paced.sent)
  const cSeconds = cFlood.length > 1 ? (cFlood.at(-1)!.recv_mono_ns - cFlood[0]!.recv_mono_ns) / 1e9 : NaN
  const cRate = cFlood.length / cSeconds
  const jsP50 = Number(js.paced.p50Ns)
  const jsP99 = Number(js.paced.p99Ns)
  const lines = [
    `ra-latency (${release}, TCG VM, rate_limit=0): ${js.paced.sent} RAs ${js.paced.intervalUs} µs apart, then ${js.flood.sent.sent} back to back`,
    `kernel timestamp -> callback   RaMonitor (JS)      C client (baseline)   ratio JS/C`,
    `  p50                          ${us(jsP50).padEnd(20)}${us(percentile(cPaced, 0.5)).padEnd(22)}${(jsP50 / percentile(cPaced, 0.5)).toFixed(2)}`,
    `  p99                          ${us(jsP99).padEnd(20)}${us(percentile(cPaced, 0.99)).padEnd(22)}${(jsP99 / percentile(cPaced, 0.99)).toFixed(2)}`,
    `  max                          ${us(Number(js.paced.maxNs)).padEnd(20)}${us(cPaced.at(-1) ?? NaN)}`,
    `  events measured              ${String(js.paced.events).padEnd(20)}${cPaced.length}`,
    `  JS split: kernel -> wake-up enters JS p50 ${us(Number(js.paced.kernelToWakeupP50Ns))} p99 ${us(Number(js.paced.kernelToWakeupP99Ns))}; ` +
      `wake-up -> 'ra' callback p50 ${us(Number(js.paced.wakeupToCallbackP50Ns))} p99 ${us(Number(js.paced.wakeupToCallbackP99Ns))}`,
    `flood: events/s delivered      ${js.flood.eventsPerSecond.toFixed(0).padEnd(20)}${cRate.toFixed(0).padEnd(22)}${(js.flood.eventsPerSecond / cRate).toFixed(2)}`,
    `  delivered / sent             ${js.flood.delivered}/${js.flood.sent.sent} (JS, ${js.flood.overruns} overruns), ${cFlood.length}/${js.flood.sent.sent} (C); sender took ${js.flood.sent.seconds} s`,
    `  kernel: notify_sent ${js.kernel.notifySent}, queue_full ${js.kernel.notifyQueueFull}, accepted ${js.kernel.raAccepted}`,
    `target: p99 < 1 ms -> ${jsP99 < 1e6 ? 'met' : 'NOT met'}`,
  ]
  process.stdout.write(lines.join('\n') + '\n')
  return 0
}

main().then(code => process.exit(code), err => { process.stderr.write(`${(err as Error).stack}\n`); process.exit(1) })
