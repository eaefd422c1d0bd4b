// RaMonitor and `ra6dhcp monitor` on the ra6mon source, with the module loaded in the test VM (one
// boot, test/vm/guest/ra-monitor.sh): the missing-module errors, replay at start, every field of a
// radvd RA and of a crafted one, two monitors in one process, close and reopen, overrun and
// recovery under a flood, EPERM as an unprivileged user, and rmmod once every monitor closed.
import t from 'tap'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { need } from '../lib/requirements.js'
import { ensureModule, runVm, vmKernelRelease, vmNeeds, parseProcStats } from './lib/vm.js'

const repo = resolve(fileURLToPath(import.meta.url), '../../..')

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('RaMonitor with ra6mon in the VM', async t => {
  const needs = vmNeeds()
  needs.files = [...(needs.files ?? []), join(repo, 'build/Release/ra6mon.node'),
    join(repo, 'dist/test/vm/guest/ra-monitor-driver.js'), join(repo, 'dist/src/cli/main.js')]
  if (!need(t, needs)) return
  ensureModule(vmKernelRelease()!)
  const vm = await runVm({ script: 'test/vm/guest/ra-monitor.sh', timeoutMs: 300_000 })
  t.equal(vm.failure, undefined, `VM ran to the end (console tail: ${vm.console.slice(-1500)})`)
  t.equal(vm.exitCode, 0, `guest script exit code (output: ${vm.scriptOutput.slice(-3000)})`)
  for (const r of vm.results) t.ok(r.ok, `guest: ${r.name}: ${r.detail}`)
  t.ok(vm.results.some(r => r.name === 'driver-main' && r.ok), 'the driver ran every scenario')
  t.same(vm.dmesgProblems, [], 'no WARNING/BUG/Oops or ra6mon error in dmesg')
  const file = (name: string): Json => {
    const text = vm.files.get(`ra-monitor/${name}.json`)
    if (text === undefined) throw new Error(`the guest left no ra-monitor/${name}.json (output: ${vm.scriptOutput.slice(-3000)})`)
    return JSON.parse(text) as Json
  }

  t.test('no module: actionable errors, and auto falls back with one warning', async t => {
    const missing = file('missing')
    t.match(missing.ra6mon, { code: 'ENOENT', message: /^the ra6mon module is not loaded: build and insmod kernel\/ra6mon.ko, or use --ra-source rtnetlink/ })
    t.match(missing.ra6monProtocol31, { code: 'EPROTONOSUPPORT', errno: -93, syscall: 'socket', message: /^the ra6mon module is not loaded/ })
    t.equal(missing.auto.source, 'rtnetlink')
    t.equal(missing.auto.warnings.length, 1)
    t.match(missing.auto.warnings[0], /falling back to rtnetlink/)
  })

  t.test('replay at start: radvd\'s RA, accepted before the monitor existed, with every field', async t => {
    const replay = file('replay')
    t.equal(replay.source, 'ra6mon', 'auto picked ra6mon')
    t.same(replay.warnings, [])
    t.equal(replay.events.length, 1)
    const e = replay.events[0]
    t.match(e, {
      source: 'ra6mon', ifname: 'eth0', replayed: true, destination: 'ff02::1', curHopLimit: 64,
      flags: { managed: true, other: true, homeAgent: false, preference: 'high', proxy: false },
      routerLifetime: 1800, reachableTime: 0, retransTimer: 0, clock: 1,
    })
    t.match(e.router, /^fe80::/)
    t.match(e.kernelTimeNs, /^\d+$/)
    const kinds = e.options.map((o: Json) => o.kind)
    t.ok(kinds.includes('sourceLinkLayerAddress'), 'radvd sends its link-layer address')
    t.same(e.options.filter((o: Json) => o.kind !== 'sourceLinkLayerAddress'), [
      { kind: 'prefixInformation', prefix: '2001:db8:1::', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetime: 86400, preferredLifetime: 14400 },
      { kind: 'rdnss', lifetime: 600, servers: ['2001:db8::53'] },
      { kind: 'dnssl', lifetime: 600, domains: ['example.com'] },
    ])
  })

  t.test('ra6dhcp monitor --source ra6mon prints the RA', async t => {
    const text = vm.files.get('ra-monitor/cli.txt') ?? ''
    t.match(text, /accepted RA on eth0 \(ifindex \d+\) from fe80::[0-9a-f:]+ to ff02::1 via ra6mon, replayed/)
    t.match(text, /\tAdvManagedFlag on;\n\tAdvOtherConfigFlag on;\n\tAdvHomeAgentFlag off;\n\tAdvDefaultPreference high;/)
    t.match(text, /\tAdvCurHopLimit 64;\n\tAdvDefaultLifetime 1800;/)
    t.match(text, /\tprefix 2001:db8:1::\/64\n/)
    t.match(text, /\tRDNSS 2001:db8::53\n/)
    t.match(text, /\tDNSSL example.com\n/)
    const line = JSON.parse((vm.files.get('ra-monitor/cli.jsonl') ?? '{}').split('\n')[0] || '{}') as Json
    t.match(line, { source: 'ra6mon', ifname: 'eth0', replayed: true, flags: { managed: true } })
  })

  t.test('two monitors in one process both get a crafted RA, every fixed field right', async t => {
    const two = file('two')
    t.equal(new Set(two.ports).size, 2, `distinct kernel port ids ${two.ports}`)
    t.equal(two.m2Replayed.length, 1, 'the second monitor got the replay too')
    for (const e of [two.m1, two.m2]) {
      t.match(e, {
        replayed: false, ifname: 'eth0', curHopLimit: 64, routerLifetime: 1800, reachableTime: 30000, retransTimer: 1000,
        flags: { managed: true, other: true, preference: 'medium' },
        options: [{ kind: 'sourceLinkLayerAddress' }, { kind: 'mtu', mtu: 1500 }],
      })
    }
    t.equal(two.m1.seq, two.m2.seq, 'the same RA (same kernel sequence number)')
    t.ok(BigInt(two.m1.kernelTimeNs) >= BigInt(two.sentAtNs), 'kernel timestamp after the driver asked for the RA: same clock')
    for (const ns of two.latencyNs) t.ok(BigInt(ns) > 0n && BigInt(ns) < 5_000_000_000n, `kernel-to-callback ${ns} ns`)
  })

  t.test('close and reopen', async t => {
    const reopen = file('reopen')
    t.equal(reopen.m2EventsAfterClose, 0, 'a closed monitor hears nothing')
    t.not(reopen.newPort, reopen.closedPort)
    t.equal(reopen.m3[0]?.replayed, true, 'the new monitor starts with the replay')
    t.equal(reopen.m3.filter((e: Json) => !e.replayed).length, 1, 'and then gets the next RA')
    t.equal(reopen.m1Live, 1, 'the first monitor, untouched, got it too')
  })

  t.test('overrun under a flood: counted, re-registered, the latest state recovered', async t => {
    const o = file('overrun')
    t.equal(o.flood.sent, 2000)
    t.ok(o.m4.overruns >= 1, `the 4 KiB monitor overran (${o.m4.overruns})`)
    t.equal(o.m4.recoveries, o.m4.overruns, 'each overrun was followed by a successful re-registration')
    t.equal(o.m4.malformed, 0)
    const finalSeq = o.m5Replay[0]?.seq
    t.ok(finalSeq !== undefined, 'a fresh monitor sees the latest RA')
    t.equal(o.m4.lastSeq, finalSeq, `the overrun monitor ends knowing the latest RA: nothing is silently lost (${JSON.stringify(o.m4)})`)
    t.equal(o.m1.lastSeq, finalSeq, `so does the default-sized monitor (${JSON.stringify(o.m1)})`)
    t.ok(Number(o.statsAfter.notifyQueueFull) > Number(o.statsBefore.notifyQueueFull ?? 0), 'the module counted the full queue')
  })

  t.test('EPERM as an unprivileged user', async t => {
    const e = file('eperm')
    const out = JSON.parse(String(e.stdout).trim() || '{}') as Json
    t.match(out, { uid: 65534, code: 'EPERM', errno: -1, message: /^registering needs CAP_NET_ADMIN/ }, `child: ${e.stdout} ${e.stderr}`)
  })

  t.test('every monitor closed its socket: the module unloads', async t => {
    const end = parseProcStats(vm.files.get('ra-monitor/proc-end.txt') ?? '')
    t.equal(end.counters.clients, 0, `no client left registered: ${end.clients.join('; ')}`)
    t.ok(vm.results.some(r => r.name === 'rmmod' && r.ok), 'rmmod succeeded')
  })
  t.comment(`VM wall time ${vm.wallMs} ms`)
})
