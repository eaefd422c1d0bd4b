// `npm run bench:rss` (as root): the daemon's memory when bound and idle, and after many
// accelerated renewals, side by side with the ratio end/start.
//
// Real parts only: `ra6dhcp run eth0` in a client namespace, radvd (M=1) and Kea in a router
// namespace (test/lib/netns.ts, test/lib/servers.ts). Kea hands out T1 = 1 s (its smallest
// timer), so one Renew/Reply exchange per second: BENCH_RENEWALS (default 120) renewals are an
// hour of a lease with T1 = 3600/BENCH_RENEWALS s (120 -> T1 = 30 s) compressed into about
// BENCH_RENEWALS seconds. Each renewal runs the daemon's whole path: Renew out, Reply in,
// `ip -6 addr replace`, the lease file written atomically, the resolv.conf fragment, the hook, one
// log line per message.
//
// Figures: VmRSS/VmHWM/RssAnon from /proc/PID/status, and the V8 heap from process.memoryUsage()
// inside the daemon (bench/rss-probe.ts, loaded with --import, answers SIGUSR2), both as found and
// after a full GC. "start" is taken after BENCH_WARMUP (default 5) renewals, so JIT and first-use
// allocations are in the baseline; "bound" right after the first Reply, for reference.
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { NetnsLab } from '../test/lib/netns.js'
import { buildRouterLab, startKea, startRadvd, waitFor } from '../test/lib/servers.js'
import { missing } from '../test/lib/requirements.js'

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const probe = new URL('./rss-probe.js', import.meta.url).href
const RENEWALS = positiveInteger('BENCH_RENEWALS', 120)
const WARMUP = positiveInteger('BENCH_WARMUP', 5)

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined) return fallback
  if (!/^[1-9]\d*$/.test(text)) {
    process.stderr.write(`${name} must be a whole number above 0 (got '${text}'), e.g. ${name}=${fallback}\n`)
    process.exit(2)
  }
  return Number(text)
}

interface Sample {
  label: string
  renewals: number
  vmRssKb: number
  vmHwmKb: number
  rssAnonKb: number
  heapUsed: number
  heapTotal: number
  heapUsedAfterGc: number
  external: number
}

function procStatusKb(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`)
  return Number(match[1])
}

async function main(): Promise<void> {
  const lacking = missing({ root: true, commands: ['ip', 'radvd', 'kea-dhcp6', 'rdisc6'], files: [cli] })
  if (lacking.length > 0) {
    process.stderr.write(`bench:rss cannot run: ${lacking.join('; ')}\n`)
    process.exit(2)
  }
  const lab = new NetnsLab()
  const cleanup = () => lab.cleanup()
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)) })
  try {
    const net = await buildRouterLab(lab, { prefix64: '2001:db8:b::' })
    const client = net.clients[0]!
    await startKea(net.router, {
      interfaces: [net.routerIf], subnet: net.prefix, pools: ['2001:db8:b::100-2001:db8:b::1ff'],
      renewTimer: 1, rebindTimer: 2, preferredLifetime: 6, validLifetime: 10, dnsServers: ['2001:db8:b::53'],
    })
    await startRadvd(net.router, net.routerIf, { managed: true, minInterval: 3, maxInterval: 4 })
    const socket = join(lab.dir, 'ra6dhcp.sock')
    const probeFile = join(lab.dir, 'probe.jsonl')
    const hook = join(lab.dir, 'hook.sh')
    writeFileSync(hook, '#!/bin/sh\nexit 0\n')
    chmodSync(hook, 0o755)
    const daemon = client.ns.spawn('ra6dhcp', [
      process.execPath, '--expose-gc', '--import', probe, cli, 'run', client.ifname, '--ra-source', 'rtnetlink',
      '--state-dir', join(lab.dir, 'state'), '--control-socket', socket, '--resolv-conf', join(lab.dir, 'eth0.resolv.conf'),
      '--hook', hook, '--sol-max-delay', '0', '--log-format', 'json',
    ], { env: { ...process.env, RA6DHCP_RSS_PROBE_FILE: probeFile } })
    const counters = (): Record<string, number> => {
      if (daemon.process.exitCode !== null) throw new Error(`the daemon exited (${daemon.process.exitCode}); log ${daemon.logFile}`)
      const r = spawnSync(process.execPath, [cli, 'ctl', '--socket', socket, 'status', '--json'], { encoding: 'utf8', timeout: 30_000 })
      if (r.status !== 0) return {}
      return (JSON.parse(r.stdout) as { status: { interfaces: { counters: Record<string, number> }[] } }).status.interfaces[0]?.counters ?? {}
    }
    // Counted from the daemon's log, not by polling `ctl status`, so that only renewals run in
    // the daemon between the samples.
    const logged = (message: string) => {
      const needle = `"msg":"${message}"`
      return readFileSync(daemon.logFile, 'utf8').split('\n').filter(line => line.includes(needle)).length
    }
    const renewals = () => logged('sent Renew')
    const sample = async (label: string): Promise<Sample> => {
      const lines = () => (existsSync(probeFile) ? readFileSync(probeFile, 'utf8').trim().split('\n').filter(Boolean) : [])
      const vmRssKb = procStatusKb(daemon.pid, 'VmRSS')
      const vmHwmKb = procStatusKb(daemon.pid, 'VmHWM')
      const rssAnonKb = procStatusKb(daemon.pid, 'RssAnon')
      const count = lines().length
      process.kill(daemon.pid, 'SIGUSR2')
      const line = await waitFor('the probe to answer', () => lines()[count], 5000)
      const heap = JSON.parse(line) as { before: NodeJS.MemoryUsage; afterGc: NodeJS.MemoryUsage }
      return {
        label, renewals: renewals(), vmRssKb, vmHwmKb, rssAnonKb,
        heapUsed: heap.before.heapUsed, heapTotal: heap.before.heapTotal, heapUsedAfterGc: heap.afterGc.heapUsed, external: heap.afterGc.external,
      }
    }

    await waitFor('the daemon bound (first Reply)', () => logged('received Reply') >= 1, 30_000, 200)
    const bound = await sample('bound')
    await waitFor(`${WARMUP} warm-up renewals`, () => renewals() >= WARMUP, (WARMUP + 10) * 1000, 250)
    const start = await sample(`start (${WARMUP} renewals)`)
    const target = WARMUP + RENEWALS
    process.stderr.write(`bench:rss: ${RENEWALS} renewals at T1 = 1 s (an hour at T1 = ${(3600 / RENEWALS).toFixed(1)} s), about ${RENEWALS} s\n`)
    let lastReport = Date.now()
    const renewed = (count: number) => waitFor(`${count} renewals`, () => {
      const n = renewals()
      if (Date.now() - lastReport > 30_000) { process.stderr.write(`bench:rss: ${n - WARMUP}/${RENEWALS} renewals\n`); lastReport = Date.now() }
      return n >= count
    }, (RENEWALS * 2 + 30) * 1000, 1000)
    // halfway, to tell steady growth from a one-off step
    await renewed(WARMUP + Math.floor(RENEWALS / 2))
    const mid = await sample('mid')
    await renewed(target)
    const end = await sample(`end (${target} renewals)`)
    const final = counters()

    const rows: Array<[string, (s: Sample) => number, string]> = [
      ['VmRSS', s => s.vmRssKb, 'kB'],
      ['VmHWM (peak RSS)', s => s.vmHwmKb, 'kB'],
      ['RssAnon', s => s.rssAnonKb, 'kB'],
      ['V8 heapUsed', s => Math.round(s.heapUsed / 1024), 'kB'],
      ['V8 heapTotal', s => Math.round(s.heapTotal / 1024), 'kB'],
      ['V8 heapUsed after GC', s => Math.round(s.heapUsedAfterGc / 1024), 'kB'],
      ['external after GC', s => Math.round(s.external / 1024), 'kB'],
    ]
    const pad = (text: string, width: number) => text.padStart(width)
    const out = [
      `ra6dhcp daemon memory: ${RENEWALS} accelerated renewals (Kea T1 = 1 s; an hour at T1 = ${(3600 / RENEWALS).toFixed(1)} s)`,
      `${'metric'.padEnd(28)}${pad('bound', 10)}${pad(`start@${start.renewals}`, 12)}${pad(`mid@${mid.renewals}`, 12)}${pad(`end@${end.renewals}`, 12)}${pad('end/start', 11)}`,
    ]
    for (const [name, value, unit] of rows) {
      const ratio = value(end) / value(start)
      out.push(`${`${name} (${unit})`.padEnd(28)}${pad(String(value(bound)), 10)}${pad(String(value(start)), 12)}${pad(String(value(mid)), 12)}${pad(String(value(end)), 12)}${pad(ratio.toFixed(3), 11)}`)
    }
    const retransmitted = Object.entries(final).filter(([k]) => k.startsWith('retransmitted.')).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'
    out.push(`exchanges: sent.renew=${final['sent.renew'] ?? 0} received.reply=${final['received.reply'] ?? 0} retransmissions: ${retransmitted}`)
    process.stdout.write(`${out.join('\n')}\n`)
  } finally {
    await cleanup()
  }
}

main().catch(err => {
  process.stderr.write(`bench:rss failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
