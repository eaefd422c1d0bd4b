// Wire-to-wire latency from a Router Advertisement (M=1) to the client's first Solicit, in the test
// VM (TCG) with ra6mon.ko: ra6dhcp (ra6mon source, --sol-max-delay 0) and, in the same run,
// Debian's dhcpcd (`nodelay`) on the same link. Both times come from one capture on the client's
// interface; each RA is paired with the first Solicit after it (and before the next RA).
//   npm run bench:ra-to-solicit -- [TRIALS] [DHCPCD_TRIALS]     (as root; default 200 and 200)
import { missing } from '../test/lib/requirements.js'
import { ensureModule, runVm, vmKernelRelease, vmNeeds } from '../test/vm/lib/vm.js'
import { captureRows, type ScenarioRecord } from '../src/lab/scenario.js'
import type { BenchRecord } from './ra-to-solicit-driver.js'

const trials = Number(process.argv[2] ?? 200)
const dhcpcdTrials = Number(process.argv[3] ?? trials)

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function main(): Promise<number> {
  const reasons = missing({ ...vmNeeds(), commands: [...(vmNeeds().commands ?? []), 'tshark'] })
  if (reasons.length) { process.stderr.write(`bench:ra-to-solicit cannot run: ${reasons.join('; ')}\n`); return 1 }
  ensureModule(vmKernelRelease()!)
  const vm = await runVm({
    script: 'bench/ra-to-solicit-guest.sh', args: [String(trials), String(dhcpcdTrials)],
    timeoutMs: 60 * 60_000, cpus: 2,
  })
  const text = vm.files.get('bench/ra-to-solicit.json')
  if (vm.failure || !text) {
    process.stderr.write(`the VM run failed: ${vm.failure ?? 'no result file'}\n${vm.scriptOutput.slice(-4000)}\n`)
    return 1
  }
  process.stderr.write(vm.scriptOutput.split('\n').filter(l => l.startsWith('[bench]')).join('\n') + '\n')
  const record = JSON.parse(text) as BenchRecord
  if (record.phases.length === 0 || vm.exitCode !== 0) {
    process.stderr.write(`the guest driver failed (exit ${vm.exitCode}):\n${vm.scriptOutput.slice(-4000)}\n`)
    return 1
  }
  const rows = captureRows({ capture: [], captureBase64: record.captureBase64 } as unknown as ScenarioRecord)
  const results = new Map<string, number[]>()
  for (const phase of record.phases) {
    const inPhase = rows.filter(r => r.timeUs >= phase.startUs && r.timeUs <= phase.endUs + 2_000_000)
    const latencies: number[] = []
    inPhase.forEach((row, i) => {
      if (row.kind !== 'RA' || row.timeUs > phase.endUs) return
      const next = inPhase.slice(i + 1)
      const nextRa = next.find(r => r.kind === 'RA')
      const solicit = next.find(r => r.kind === 'Solicit')
      if (solicit && (!nextRa || solicit.timeUs < nextRa.timeUs)) latencies.push((solicit.timeUs - row.timeUs) / 1000)
    })
    latencies.sort((a, b) => a - b)
    results.set(phase.name, latencies)
    const ras = inPhase.filter(r => r.kind === 'RA' && r.timeUs <= phase.endUs).length
    console.log(`${phase.name.padEnd(8)} trials ${phase.trials}, RAs captured ${ras}, RA->Solicit pairs ${latencies.length}, failures ${phase.failures.length}`)
    console.log(`         p50 ${percentile(latencies, 50).toFixed(2)} ms  p90 ${percentile(latencies, 90).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  min ${latencies[0]?.toFixed(2)} ms  max ${latencies.at(-1)?.toFixed(2)} ms`)
    for (const f of phase.failures.slice(0, 3)) console.log(`         failure: ${f.split('\n')[0]}`)
  }
  // Where ra6dhcp's time goes: kernel accept -> daemon callback (both CLOCK_MONOTONIC, from its log).
  const notify = record.daemonLog.split('\n').filter(l => l.includes('"msg":"RA accepted by the kernel"')).map(l => JSON.parse(l) as { kernelTimeNs?: string; receivedMonotonicNs?: string })
    .filter(l => l.kernelTimeNs && l.receivedMonotonicNs).map(l => Number(BigInt(l.receivedMonotonicNs!) - BigInt(l.kernelTimeNs!)) / 1e6).sort((a, b) => a - b)
  if (notify.length) console.log(`ra6dhcp  kernel accept -> daemon callback (${notify.length} RAs): p50 ${percentile(notify, 50).toFixed(2)} ms  p99 ${percentile(notify, 99).toFixed(2)} ms`)
  const ours = results.get('ra6dhcp') ?? []
  const theirs = results.get('dhcpcd') ?? []
  if (ours.length && theirs.length) {
    console.log(`ratio dhcpcd/ra6dhcp: p50 ${(percentile(theirs, 50) / percentile(ours, 50)).toFixed(2)}x, p99 ${(percentile(theirs, 99) / percentile(ours, 99)).toFixed(2)}x (above 1: ra6dhcp is faster)`)
  }
  console.log(`VM wall time ${(vm.wallMs / 1000).toFixed(0)} s (QEMU TCG, 2 vCPUs; host load average at the end ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`)
  return 0
}

main().then(code => { process.exitCode = code }, err => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1 })
