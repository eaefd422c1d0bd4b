// Guest side of bench/ra-to-solicit.ts (compiled to dist/, run in the VM by
// bench/ra-to-solicit-guest.sh with ra6mon.ko loaded): wire-to-wire RA -> Solicit latency of
// ra6dhcp and of dhcpcd on the same link, both with the initial Solicit delay off.
//   ra6dhcp: one daemon (--ra-source ra6mon --on-ra solicit --sol-max-delay 0 --rapid-commit);
//            each trial sends one RA and waits for the Rapid Commit Reply, so the next RA meets a
//            bound client and starts a new Solicit.
//   dhcpcd:  dhcpcd only solicits on its first RA, so each trial starts a fresh dhcpcd (new state
//            directories, `nodelay`, no IA configured so the RA's M flag starts DHCPv6), waits
//            until it solicits a router, sends one RA, waits for its first Solicit.
// The RAs come from bench/ra-to-solicit-ra.py in the router namespace; Kea answers (Rapid Commit).
// Everything is captured on the client's eth0; the capture goes back raw (base64) in
// DIR/ra-to-solicit.json with the phase boundaries, and the host pairs each RA with the Solicit.
//   node dist/bench/ra-to-solicit-driver.js --out DIR --trials N [--dhcpcd-trials M]
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { NetnsLab, type Daemon } from '../test/lib/netns.js'
import { buildRouterLab, readLog, signalAndWait, startCapture, startDhcpcd, waitFor } from '../test/lib/servers.js'
import { startKeaQuietly } from '../src/lab/scenario.js'

export interface BenchRecord {
  phases: Array<{ name: 'ra6dhcp' | 'dhcpcd'; startUs: number; endUs: number; trials: number; failures: string[] }>
  captureBase64: string
  /** ra6dhcp's JSON log: its RA lines carry the kernel and the daemon's receive times. */
  daemonLog: string
  wallMs: number
}

const repo = join(new URL('.', import.meta.url).pathname, '../..')
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const nowUs = () => Date.now() * 1000

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out')
  const out = outIndex >= 0 ? process.argv[outIndex + 1]! : '/tmp'
  const trials = arg('--trials', 200)
  const dhcpcdTrials = arg('--dhcpcd-trials', trials)
  const started = Date.now()
  const lab = new NetnsLab()
  const record: BenchRecord = { phases: [], captureBase64: '', daemonLog: '', wallMs: 0 }
  try {
    const prefix64 = '2001:db8:6b::'
    const net = await buildRouterLab(lab, { prefix64 })
    const client = net.clients[0]!
    await client.ns.sysctl('net.ipv6.conf.eth0.router_solicitations', 0)
    const capture = await startCapture(client.ns, 'eth0', join(lab.dir, 'eth0.pcapng'), { routerAdvertisements: true })
    await startKeaQuietly(net.router, {
      interfaces: [net.routerIf], subnet: net.prefix, pools: [`${prefix64}1000-${prefix64}1fff`], rapidCommit: true,
      renewTimer: 1000, rebindTimer: 1600, preferredLifetime: 2000, validLifetime: 3000,
    }, 120_000)

    const sender = spawn('ip', ['netns', 'exec', net.router.name, 'python3', join(repo, 'bench/ra-to-solicit-ra.py'), net.routerIf], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: sender.stdout! })[Symbol.asyncIterator]()
    await lines.next()
    const sendRa = async () => { sender.stdin!.write('ra\n'); await lines.next() }

    // ra6dhcp: one daemon, one RA per trial.
    const state = join(lab.dir, 'ra6dhcp-state')
    const cli = join(repo, 'dist/src/cli/main.js')
    const daemon: Daemon = client.ns.spawn('ra6dhcp', [process.execPath, cli, 'run', 'eth0', '--ra-source', 'ra6mon',
      '--on-ra', 'solicit', '--sol-max-delay', '0', '--rapid-commit', '--log-format', 'json',
      '--state-dir', state, '--control-socket', join(lab.dir, 'ra6dhcp.sock')])
    await waitFor('ra6dhcp running', () => readLog(daemon).includes('"msg":"ra6dhcp running"'), 120_000)
    await sleep(2000) // its Router Solicitation (rdisc6) and start-up settle
    const phase1 = { name: 'ra6dhcp' as const, startUs: nowUs(), endUs: 0, trials, failures: [] as string[] }
    const replies = () => readLog(daemon).split('"msg":"received Reply"').length - 1
    for (let i = 0; i < trials; i++) {
      const before = replies()
      await sendRa()
      try {
        await waitFor(`trial ${i}: the Rapid Commit Reply`, () => replies() > before, 10_000, 10)
      } catch (err) { phase1.failures.push((err as Error).message) }
      await sleep(50)
    }
    phase1.endUs = nowUs()
    record.phases.push(phase1)
    await signalAndWait(daemon, 'SIGTERM')
    record.daemonLog = readLog(daemon)
    process.stderr.write(`[bench] ra6dhcp: ${trials} trials in ${((phase1.endUs - phase1.startUs) / 1e6).toFixed(1)} s\n`)

    // dhcpcd: a fresh one per trial.
    const phase2 = { name: 'dhcpcd' as const, startUs: nowUs(), endUs: 0, trials: dhcpcdTrials, failures: [] as string[] }
    for (let i = 0; i < dhcpcdTrials; i++) {
      // No ia_na line (the fixture's `stateless` only leaves the IA lines out): with one, dhcpcd
      // solicits at start without waiting for an RA; without, an RA with M=1 starts its IA_NA.
      const dhcpcd = startDhcpcd(client.ns, 'eth0', { name: `dhcpcd${i}`, stateless: true, extraConfig: ['nodelay'] })
      try {
        await waitFor(`trial ${i}: dhcpcd soliciting a router`, () => /soliciting an IPv6 router/.test(readLog(dhcpcd.daemon)), 20_000, 20)
        await sendRa()
        await waitFor(`trial ${i}: dhcpcd's Solicit`, () => /SOLICIT6/.test(readLog(dhcpcd.daemon)), 10_000, 10)
        await sleep(100)
      } catch (err) { phase2.failures.push(`${(err as Error).message}: ${readLog(dhcpcd.daemon).slice(-500)}`) }
      await signalAndWait(dhcpcd.daemon, 'SIGTERM')
      if (i % 10 === 9) process.stderr.write(`[bench] dhcpcd: ${i + 1} trials, ${phase2.failures.length} failures, ${((nowUs() - phase2.startUs) / 1e6).toFixed(0)} s\n`)
    }
    phase2.endUs = nowUs()
    record.phases.push(phase2)
    process.stderr.write(`[bench] dhcpcd: ${dhcpcdTrials} trials in ${((phase2.endUs - phase2.startUs) / 1e6).toFixed(1)} s\n`)
    sender.stdin!.end()
    await sleep(1500) // dumpcap hands over its last block
    await capture.stop()
    record.captureBase64 = readFileSync(capture.file).toString('base64')
  } finally {
    await lab.cleanup()
    record.wallMs = Date.now() - started
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, 'ra-to-solicit.json'), JSON.stringify(record))
  }
}

main().catch(err => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1 })
