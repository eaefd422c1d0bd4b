// scripts/lab.sh's host side: runs one lab scenario (src/lab/scenario.ts) in the test VM with
// ra6mon.ko loaded, or with --no-vm in namespaces of this machine with the rtnetlink source, and
// prints the timeline and the lease. Run through tap's TypeScript loader (as the tests are), so the
// VM harness finds the repository: node --import @tapjs/typescript/import src/lab/main.ts [flags]
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { missing } from '../../test/lib/requirements.js'
import { ensureModule, runVm, vmKernelRelease, vmNeeds } from '../../test/vm/lib/vm.js'
import { captureRows, runScenario, type ScenarioRecord } from './scenario.js'
import { buildTimeline, formatTimeline } from './timeline.js'

const usage = `usage: bash scripts/lab.sh [--no-vm] [--profile rfc3315|rfc8415] [--keep]
  (default)  boot the test VM with ra6mon.ko; radvd (M=1) + Kea in namespace rt, ra6dhcp in c1
  --no-vm    the same namespaces on this machine, RA source rtnetlink (no module, no kernel timestamp)
  --profile  the daemon's constants table (default rfc3315, as Ready Logo testers expect)
  --keep     keep the logs and the capture (their directory is printed)`

class LabError extends Error {}

function parseFlags(argv: string[]): { vm: boolean; profile: 'rfc3315' | 'rfc8415'; keep: boolean } {
  const flags = { vm: true, profile: 'rfc3315' as 'rfc3315' | 'rfc8415', keep: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--no-vm') flags.vm = false
    else if (a === '--keep') flags.keep = true
    else if (a === '--profile' || a?.startsWith('--profile=')) {
      const v = a.includes('=') ? a.slice('--profile='.length) : argv[++i]
      if (v !== 'rfc3315' && v !== 'rfc8415') throw new LabError(`--profile must be rfc3315 or rfc8415 (got '${v ?? ''}')\n${usage}`)
      flags.profile = v
    } else if (a === '-h' || a === '--help') { process.stdout.write(`${usage}\n`); process.exit(0) } else throw new LabError(`unknown argument '${a}'\n${usage}`)
  }
  return flags
}

const say = (line: string) => process.stdout.write(`[lab] ${line}\n`)

async function inVm(profile: string, keep: boolean): Promise<ScenarioRecord> {
  const reasons = missing(vmNeeds())
  if (reasons.length) throw new LabError(`cannot boot the test VM: ${reasons.join('; ')}`)
  const release = vmKernelRelease()!
  ensureModule(release)
  say(`booting the test VM (QEMU TCG, Linux ${release}) with kernel/ra6mon.ko`)
  if (keep) process.env.RA6_VM_KEEP = '1'
  const vm = await runVm({
    script: 'lab/guest.sh', args: ['--profile', profile, '--raw-capture', '--timeout-ms', '60000', ...(keep ? ['--keep-to', '/tmp/vmout/lab/files'] : [])],
    timeoutMs: 180_000, cpus: 2,
  })
  say(`VM ran for ${(vm.wallMs / 1000).toFixed(1)} s`)
  if (process.env.RA6_LAB_DEBUG) process.stderr.write(vm.scriptOutput)
  const text = vm.files.get('lab/lab.json')
  if (vm.failure || !text) {
    throw new LabError(`the VM run failed: ${vm.failure ?? 'no lab/lab.json in the share'}\n--- guest output (tail) ---\n${vm.scriptOutput.slice(-3000)}`)
  }
  const left = vm.files.get('lab/netns-left.txt')?.trim()
  if (left) say(`WARNING: namespaces left in the guest: ${left}`)
  if (vm.dmesgProblems.length) say(`WARNING: dmesg problems in the guest:\n${vm.dmesgProblems.join('\n')}`)
  return JSON.parse(text) as ScenarioRecord
}

async function onHost(profile: 'rfc3315' | 'rfc8415', keep: boolean): Promise<ScenarioRecord> {
  const reasons = missing({ root: true, commands: ['ip', 'radvd', 'kea-dhcp6', 'dumpcap', 'tshark', 'python3', 'rdisc6'] })
  if (reasons.length) throw new LabError(`cannot run the lab: ${reasons.join('; ')}`)
  say('namespaces on this machine (no VM): RA source rtnetlink')
  const keepTo = keep ? mkdtempSync(join(tmpdir(), 'ra6dhcp-lab-')) : undefined
  const record = await runScenario({
    name: 'lab', raSource: 'rtnetlink', profile, onRa: 'auto', order: 'daemon-first', extraRa: false, timeoutMs: 30_000,
    ...(keepTo ? { keepTo } : {}),
  })
  if (keepTo) say(`kept the logs and the capture in ${keepTo}`)
  return record
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2))
  const started = Date.now()
  const record = flags.vm ? await inVm(flags.profile, flags.keep) : await onHost(flags.profile, flags.keep)
  say('router namespace: radvd (M=1, prefix 2001:db8:6a::/64, A=0) and Kea (pool 2001:db8:6a::100-1ff)')
  say(`client namespace: ${record.command}`)
  const timeline = buildTimeline(record, captureRows(record))
  process.stdout.write(`${formatTimeline(timeline)}\n`)
  const kea = record.keaLeases.find(l => l.address === timeline.lease?.address)
  const sameLifetime = kea !== undefined && kea.validLifetime === timeline.lease?.validLifetime
  if (kea) say(`Kea's lease file ${sameLifetime ? 'agrees' : 'DISAGREES'}: ${kea.address} for client DUID ${kea.duid}, valid ${kea.validLifetime} s`)
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (!record.ok) throw new LabError(`no lease: ${record.error ?? 'unknown'}\n--- daemon log ---\n${record.daemonLog.slice(-4000)}`)
  if (timeline.missing.length) throw new LabError(`the timeline is incomplete (see MISSING above)\n--- daemon log ---\n${record.daemonLog.slice(-4000)}`)
  if (!kea) throw new LabError('Kea\'s lease file has no lease for the address the daemon configured')
  if (!sameLifetime) throw new LabError(`Kea's valid lifetime ${kea.validLifetime} s is not the one the daemon stored (${timeline.lease?.validLifetime} s)`)
  return 0
}

main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(err instanceof LabError ? `[lab] FAILED: ${err.message}\n` : `[lab] FAILED: ${(err as Error).stack}\n`)
  process.exitCode = 1
})
