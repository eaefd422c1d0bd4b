// Real DHCPv6 peers for namespace tests and vector captures: radvd, Kea, dnsmasq (servers),
// dhclient -6, wide dhcp6c, dhcpcd (clients), and dumpcap captures. Every process is started with
// Namespace.spawn (so NetnsLab.cleanup ends it by PID), every config, lease, pid, DUID and socket
// file lives in lab.dir, and nothing is started as a system service. Clients that hard-code state
// paths under /var or /run (dhcp6c, dhcpcd) run in a private mount namespace where those paths are
// bind mounts of lab directories, so the build machine's own files never change.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import type { Daemon, Namespace, NetnsLab } from './netns.js'

// ---------------------------------------------------------------------------------------------
// Small shared helpers

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, intervalMs))
  }
}

export function readLog(daemon: Daemon): string {
  try {
    return readFileSync(daemon.logFile, 'utf8')
  } catch {
    return ''
  }
}

/** Fails with the daemon's log when it has already exited (e.g. a config error). */
function assertRunning(daemon: Daemon): void {
  const { exitCode, signalCode } = daemon.process
  if (exitCode !== null || signalCode !== null) {
    throw new Error(`${daemon.name} exited (${exitCode ?? signalCode}); log ${daemon.logFile}:\n${readLog(daemon)}`)
  }
}

async function waitForLog(daemon: Daemon, pattern: RegExp, timeoutMs = 10000): Promise<void> {
  await waitFor(`${daemon.name} log to match ${pattern}`, () => {
    assertRunning(daemon)
    return pattern.test(readLog(daemon))
  }, timeoutMs).catch(err => {
    throw new Error(`${(err as Error).message}; log ${daemon.logFile}:\n${readLog(daemon)}`)
  })
}

/** Waits until something in `ns` listens on UDP `port` (optionally on an address matching `address`). */
export async function waitForUdpListener(ns: Namespace, port: number, daemon?: Daemon, timeoutMs = 10000): Promise<void> {
  await waitFor(`a UDP listener on port ${port} in ${ns.name}`, async () => {
    if (daemon) assertRunning(daemon)
    const { stdout } = await ns.run(['ss', '-H', '-u', '-l', '-n', `sport = :${port}`])
    return stdout.trim().length > 0
  }, timeoutMs, 100)
}

/** Signals a daemon (by its PID) and waits for it to end, SIGKILL after `graceMs`. */
export async function signalAndWait(daemon: Daemon, signal: NodeJS.Signals, graceMs = 5000): Promise<number | string> {
  if (daemon.process.exitCode === null && daemon.process.signalCode === null) {
    try { process.kill(daemon.pid, signal) } catch { /* already gone */ }
  }
  const timer = setTimeout(() => {
    try { process.kill(daemon.pid, 'SIGKILL') } catch { /* already gone */ }
  }, graceMs)
  const result = await daemon.exited
  clearTimeout(timer)
  return result
}

/** A directory inside lab.dir, created on first use. */
function labSubdir(lab: NetnsLab, name: string): string {
  const dir = join(lab.dir, name)
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * argv that runs `argv` in a private mount namespace in which each `binds` source (a lab
 * directory) is bind-mounted over its target (a hard-coded state directory of some client).
 * Targets that do not exist on the machine are created on a private tmpfs instead of on the host.
 */
function withPrivateMounts(
  binds: Array<{ source: string; target: string }>,
  argv: string[],
  options: { ownPidNamespace?: boolean } = {},
): string[] {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const steps: string[] = []
  for (const { source, target } of binds) {
    if (!existsSync(target)) {
      // e.g. /run/dhcpcd: cover its parent with a tmpfs rather than creating it on the host
      const parent = target.replace(/\/[^/]+\/?$/, '') || '/'
      steps.push(`mount -t tmpfs -o mode=0755 ra6dhcp-test ${quote(parent)}`, `mkdir -p ${quote(target)}`)
    }
    steps.push(`mount --bind ${quote(source)} ${quote(target)}`)
  }
  const command = argv.map(quote).join(' ')
  if (!options.ownPidNamespace) {
    steps.push(`exec ${command}`)
    return ['unshare', '--mount', '--propagation', 'private', 'sh', '-e', '-c', steps.join(' && ')]
  }
  // A client that forks helpers (dhcpcd's privilege-separation proxies) runs as PID 1 of its own
  // PID namespace. When it exits, the kernel ends every helper before its parent (unshare) can
  // reap it. The tracked shell's trap passes SIGTERM/SIGINT on to that init and polls (`wait` inside
  // a dash trap returns at once) until it is a zombie or gone, i.e. every helper has ended (SIGKILL
  // after ~1 s, well inside NetnsLab's grace period: dhcpcd sometimes takes longer to deconfigure),
  // so NetnsLab's stop-by-PID returns only when the whole tree is gone.
  const poll = `while grep -qs '^State:[[:space:]]*[^Z]' /proc/$i/status; do n=$((n+1)); [ $n -gt 20 ] && kill -KILL $i; sleep 0.05; done`
  const forward = `trap "i=\\$(cat /proc/$u/task/$u/children); n=0; kill -TERM \\$i; ${poll.replace(/\$/g, '\\$')}" TERM INT`
  const run = `unshare --pid --fork --kill-child --mount-proc ${command} & u=$!; ${forward}; wait $u`
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${steps.join(' && ')} && { ${run}; }`]
}

// ---------------------------------------------------------------------------------------------
// Topology: one router namespace with a bridge, N client namespaces on it

export interface RouterLab {
  router: Namespace
  /** The router's interface on the shared link (a bridge), where radvd, servers and captures run. */
  routerIf: string
  /** The router's global address on the link (inside `prefix`). */
  routerAddress: string
  /** The on-link /64, e.g. "2001:db8:1::/64". */
  prefix: string
  clients: Array<{ ns: Namespace; ifname: string }>
}

/**
 * Builds a router namespace "rt" with bridge "br0" (address `<prefix>1/64`, forwarding on, as
 * radvd wants) and `clients` client namespaces "c1".."cN", each with interface "eth0" on the bridge.
 * A bridge (not a plain veth) lets several clients share one link, e.g. to exhaust a pool.
 */
export async function buildRouterLab(
  lab: NetnsLab,
  options: { clients?: number; prefix64?: string } = {},
): Promise<RouterLab> {
  const count = options.clients ?? 1
  const prefix64 = options.prefix64 ?? '2001:db8:1::'
  const router = await lab.addNamespace('rt')
  await router.sysctl('net.ipv6.conf.all.forwarding', 1)
  const routerIf = 'br0'
  await router.run(['ip', 'link', 'add', routerIf, 'type', 'bridge', 'forward_delay', '0', 'mcast_snooping', '0'])
  const clients: RouterLab['clients'] = []
  for (let i = 1; i <= count; i++) {
    const ns = await lab.addNamespace(`c${i}`)
    await lab.link(router, `v${i}`, ns, 'eth0')
    await router.run(['ip', 'link', 'set', `v${i}`, 'master', routerIf])
    clients.push({ ns, ifname: 'eth0' })
  }
  await router.run(['ip', 'link', 'set', routerIf, 'up'])
  const routerAddress = `${prefix64}1`
  await router.run(['ip', '-6', 'addr', 'add', `${routerAddress}/64`, 'dev', routerIf, 'nodad'])
  await lab.waitForLinkLocal(router, routerIf)
  return { router, routerIf, routerAddress, prefix: `${prefix64}/64`, clients }
}

// ---------------------------------------------------------------------------------------------
// radvd

export type Lifetime = number | 'infinity'

export interface RadvdPrefix {
  prefix: string // "2001:db8:1::/64"
  onLink?: boolean // L flag, default true
  autonomous?: boolean // A flag, default true
  validLifetime?: Lifetime
  preferredLifetime?: Lifetime
}

export interface RadvdOptions {
  managed?: boolean // M flag
  other?: boolean // O flag
  prefixes?: RadvdPrefix[]
  rdnss?: Array<{ servers: string[]; lifetime?: Lifetime }>
  dnssl?: Array<{ domains: string[]; lifetime?: Lifetime }>
  minInterval?: number // seconds (radvd allows >= 3)
  maxInterval?: number // seconds (radvd allows >= 4)
  routerLifetime?: number // seconds; 0 = not a default router
  name?: string // daemon and file name, default "radvd"
}

export function radvdConfig(ifname: string, o: RadvdOptions): string {
  const onOff = (b: boolean | undefined, dflt: boolean) => ((b ?? dflt) ? 'on' : 'off')
  const lines = [`interface ${ifname} {`, '  AdvSendAdvert on;']
  lines.push(`  AdvManagedFlag ${onOff(o.managed, false)};`, `  AdvOtherConfigFlag ${onOff(o.other, false)};`)
  if (o.minInterval !== undefined) lines.push(`  MinRtrAdvInterval ${o.minInterval};`)
  if (o.maxInterval !== undefined) lines.push(`  MaxRtrAdvInterval ${o.maxInterval};`)
  if (o.routerLifetime !== undefined) lines.push(`  AdvDefaultLifetime ${o.routerLifetime};`)
  for (const p of o.prefixes ?? []) {
    lines.push(`  prefix ${p.prefix} {`, `    AdvOnLink ${onOff(p.onLink, true)};`, `    AdvAutonomous ${onOff(p.autonomous, true)};`)
    if (p.validLifetime !== undefined) lines.push(`    AdvValidLifetime ${p.validLifetime};`)
    if (p.preferredLifetime !== undefined) lines.push(`    AdvPreferredLifetime ${p.preferredLifetime};`)
    lines.push('  };')
  }
  for (const r of o.rdnss ?? []) {
    lines.push(`  RDNSS ${r.servers.join(' ')} {`)
    if (r.lifetime !== undefined) lines.push(`    AdvRDNSSLifetime ${r.lifetime};`)
    lines.push('  };')
  }
  for (const d of o.dnssl ?? []) {
    lines.push(`  DNSSL ${d.domains.join(' ')} {`)
    if (d.lifetime !== undefined) lines.push(`    AdvDNSSLLifetime ${d.lifetime};`)
    lines.push('  };')
  }
  lines.push('};', '')
  return lines.join('\n')
}

/**
 * Starts radvd on `ifname` in `ns` (foreground, logging to its log file, config and pid file in
 * lab.dir) and returns once it has written its pid file, i.e. finished starting up.
 */
export async function startRadvd(ns: Namespace, ifname: string, options: RadvdOptions = {}): Promise<Daemon> {
  const name = options.name ?? 'radvd'
  const configFile = join(ns.lab.dir, `${name}.conf`)
  const pidFile = join(ns.lab.dir, `${name}.pid`)
  writeFileSync(configFile, radvdConfig(ifname, options))
  await ns.sysctl('net.ipv6.conf.all.forwarding', 1)
  // -C config -p pidfile -n foreground -m stderr; -c checks the config first for a clear error
  await ns.run(['radvd', '-c', '-C', configFile]).catch(err => {
    throw new Error(`radvd rejects ${configFile}: ${(err as Error).message}`)
  })
  const daemon = ns.spawn(name, ['radvd', '-n', '-m', 'stderr', '-C', configFile, '-p', pidFile])
  await waitFor(`${name} pid file ${pidFile}`, () => {
    assertRunning(daemon)
    return existsSync(pidFile)
  })
  return daemon
}

// ---------------------------------------------------------------------------------------------
// Kea DHCPv6

export interface KeaPdPool {
  prefix: string // "2001:db8:8000::"
  prefixLen: number // 48
  delegatedLen: number // 56
}

export type KeaServerId =
  | { type: 'LLT'; htype?: number; identifier?: string; time?: number }
  | { type: 'LL'; htype?: number; identifier?: string }
  | { type: 'EN'; enterpriseId: number; identifier: string }

export interface KeaOptions {
  /** Interfaces Kea listens on (in its namespace). */
  interfaces: string[]
  /** The subnet, e.g. "2001:db8:1::/64"; bound to interfaces[0]. */
  subnet: string
  subnetId?: number
  /** IA_NA pools: "first-last" ranges or prefixes ("2001:db8:1::100-2001:db8:1::1ff"). */
  pools?: string[]
  pdPools?: KeaPdPool[]
  renewTimer?: number
  rebindTimer?: number
  preferredLifetime?: number
  validLifetime?: number
  rapidCommit?: boolean
  dnsServers?: string[]
  domainSearch?: string[]
  serverId?: KeaServerId
  /** An address of interfaces[0] on which Kea also accepts unicast (it then sends Server Unicast). */
  unicastAddress?: string
  /** Subnet-level extra keys (merged last, for anything not modelled above). */
  subnetExtra?: Record<string, unknown>
  /** Dhcp6-level extra keys (merged last). */
  extra?: Record<string, unknown>
  /** Daemon and file-name stem, default "kea6"; reuse it to restart Kea on the same lease file. */
  name?: string
  /** Kea logger severity, default "INFO"; "DEBUG" logs every packet. */
  severity?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'
}

export interface KeaServer {
  daemon: Daemon
  configFile: string
  leaseFile: string
  controlSocket: string
  options: KeaOptions
}

export function keaConfig(lab: NetnsLab, o: KeaOptions): Record<string, unknown> {
  const name = o.name ?? 'kea6'
  const dataDir = labSubdir(lab, `${name}-data`)
  const firstIf = o.interfaces[0]
  if (firstIf === undefined) throw new Error('keaConfig: at least one interface is needed')
  const listen = o.interfaces.map(i => (i === firstIf && o.unicastAddress ? `${i}/${o.unicastAddress}` : i))
  const optionData: Array<Record<string, unknown>> = []
  if (o.dnsServers?.length) optionData.push({ name: 'dns-servers', data: o.dnsServers.join(', ') })
  if (o.domainSearch?.length) optionData.push({ name: 'domain-search', data: o.domainSearch.join(', ') })
  // Listening on the address is not enough: Kea sends Server Unicast (12) only as an option, and
  // clients do not ask for it in their ORO.
  if (o.unicastAddress) optionData.push({ name: 'unicast', data: o.unicastAddress, 'always-send': true })
  const serverId = o.serverId && (o.serverId.type === 'EN'
    ? { type: 'EN', 'enterprise-id': o.serverId.enterpriseId, identifier: o.serverId.identifier, persist: false }
    : { ...o.serverId, persist: false })
  const subnet: Record<string, unknown> = {
    id: o.subnetId ?? 1,
    subnet: o.subnet,
    interface: firstIf,
    pools: (o.pools ?? []).map(pool => ({ pool })),
    'pd-pools': (o.pdPools ?? []).map(p => ({ prefix: p.prefix, 'prefix-len': p.prefixLen, 'delegated-len': p.delegatedLen })),
    ...(o.rapidCommit !== undefined ? { 'rapid-commit': o.rapidCommit } : {}),
    ...o.subnetExtra,
  }
  const timers: Record<string, number> = {}
  if (o.renewTimer !== undefined) timers['renew-timer'] = o.renewTimer
  if (o.rebindTimer !== undefined) timers['rebind-timer'] = o.rebindTimer
  if (o.preferredLifetime !== undefined) timers['preferred-lifetime'] = o.preferredLifetime
  if (o.validLifetime !== undefined) timers['valid-lifetime'] = o.validLifetime
  return {
    Dhcp6: {
      'interfaces-config': { interfaces: listen },
      'data-directory': dataDir,
      'lease-database': { type: 'memfile', name: join(lab.dir, `${name}-leases.csv`), persist: true, 'lfc-interval': 0 },
      'control-socket': { 'socket-type': 'unix', 'socket-name': join(lab.dir, `${name}.sock`) },
      ...(serverId ? { 'server-id': serverId } : {}),
      ...timers,
      'option-data': optionData,
      subnet6: [subnet],
      loggers: [{ name: 'kea-dhcp6', output_options: [{ output: 'stdout' }], severity: o.severity ?? 'INFO', debuglevel: 99 }],
      ...o.extra,
    },
  }
}

/**
 * Starts kea-dhcp6 in `ns` in the foreground with a generated config (memfile leases, data, lock,
 * pid and control-socket files all in lab.dir) and returns once it listens on UDP 547.
 */
export async function startKea(ns: Namespace, options: KeaOptions): Promise<KeaServer> {
  const lab = ns.lab
  const name = options.name ?? 'kea6'
  const config = keaConfig(lab, options)
  const configFile = join(lab.dir, `${name}.json`)
  writeFileSync(configFile, JSON.stringify(config, null, 2))
  const runDir = labSubdir(lab, `${name}-run`)
  const env = { ...process.env, KEA_LOCKFILE_DIR: runDir, KEA_PIDFILE_DIR: runDir, KEA_LOGGER_DESTINATION: 'stdout' }
  await ns.run(['kea-dhcp6', '-t', configFile]).catch(err => {
    throw new Error(`kea-dhcp6 rejects ${configFile}: ${(err as Error).message}`)
  })
  const daemon = ns.spawn(name, ['kea-dhcp6', '-c', configFile], { env })
  await waitForUdpListener(ns, 547, daemon)
  // The socket exists a moment before Kea has finished configuring; its log says when it is serving.
  await waitForLog(daemon, /DHCP6_STARTED|DHCP6_CONFIG_COMPLETE/)
  return {
    daemon,
    configFile,
    leaseFile: join(lab.dir, `${name}-leases.csv`),
    controlSocket: join(lab.dir, `${name}.sock`),
    options,
  }
}

export async function stopKea(kea: KeaServer): Promise<void> {
  await signalAndWait(kea.daemon, 'SIGTERM')
}

export interface KeaLease {
  address: string
  duid: string
  validLifetime: number
  expire: number
  subnetId: number
  preferredLifetime: number
  type: 'IA_NA' | 'IA_TA' | 'IA_PD'
  iaid: number
  prefixLen: number
  state: number // 0 default, 1 declined, 2 expired-reclaimed
}

/**
 * Reads Kea's memfile lease file. Kea appends one line per change; the last line for an
 * (address, type) wins and a line with valid lifetime 0 is a deletion (e.g. after Release).
 * Returns the current leases and every line in order.
 */
export function readKeaLeases(leaseFile: string): { current: KeaLease[]; history: KeaLease[] } {
  if (!existsSync(leaseFile)) return { current: [], history: [] }
  const lines = readFileSync(leaseFile, 'utf8').split('\n').filter(l => l.trim() !== '')
  const header = lines.shift()?.split(',') ?? []
  const col = (name: string) => {
    const i = header.indexOf(name)
    if (i < 0) throw new Error(`${leaseFile}: no column ${name} in header ${header.join(',')}`)
    return i
  }
  const types = ['IA_NA', 'IA_TA', 'IA_PD'] as const
  const history = lines.map(line => {
    const f = line.split(',')
    const num = (name: string) => Number(f[col(name)] ?? NaN)
    return {
      address: f[col('address')] ?? '',
      duid: f[col('duid')] ?? '',
      validLifetime: num('valid_lifetime'),
      expire: num('expire'),
      subnetId: num('subnet_id'),
      preferredLifetime: num('pref_lifetime'),
      type: types[num('lease_type')] ?? 'IA_NA',
      iaid: num('iaid'),
      prefixLen: num('prefix_len'),
      state: num('state'),
    } satisfies KeaLease
  })
  const latest = new Map<string, KeaLease>()
  for (const lease of history) latest.set(`${lease.type} ${lease.address}`, lease)
  const current = [...latest.values()].filter(l => l.validLifetime > 0 && l.state === 0)
  return { current, history }
}

// ---------------------------------------------------------------------------------------------
// dnsmasq as a DHCPv6 server (never as the router: radvd sends the RAs)

export interface DnsmasqRange {
  /** "stateful": leases from start..end; "stateless": Information-Request only, on `start`'s /64. */
  mode: 'stateful' | 'stateless'
  start: string
  end?: string
  prefixLen?: number // default 64
  leaseTime?: string // "1h", "120" (seconds), "infinite"
}

export interface DnsmasqOptions {
  interface: string
  ranges: DnsmasqRange[]
  dnsServers?: string[]
  domainSearch?: string[]
  rapidCommit?: boolean
  /** Raw extra arguments, e.g. "--dhcp-option=option6:ntp-server,[2001:db8::123]". */
  extraArgs?: string[]
  name?: string
}

export interface DnsmasqServer {
  daemon: Daemon
  leaseFile: string
  args: string[]
}

export function dnsmasqArgs(lab: NetnsLab, o: DnsmasqOptions): { args: string[]; leaseFile: string } {
  const name = o.name ?? 'dnsmasq'
  const leaseFile = join(lab.dir, `${name}.leases`)
  const args = [
    '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--group=root',
    `--pid-file=${join(lab.dir, `${name}.pid`)}`, `--dhcp-leasefile=${leaseFile}`,
    `--interface=${o.interface}`, '--bind-interfaces', '--log-dhcp', '--log-facility=-',
  ]
  for (const r of o.ranges) {
    const len = r.prefixLen ?? 64
    if (r.mode === 'stateful') {
      if (!r.end) throw new Error('dnsmasq stateful range needs an end address')
      args.push(`--dhcp-range=${r.start},${r.end},${len},${r.leaseTime ?? '1h'}`)
    } else {
      // "static" mode: DHCPv6 is enabled on the link but no address is leased dynamically, so only
      // Information-Request (and hosts with static reservations) are served.
      args.push(`--dhcp-range=${r.start},static,${len}`)
    }
  }
  if (o.dnsServers?.length) args.push(`--dhcp-option=option6:dns-server,${o.dnsServers.map(s => `[${s}]`).join(',')}`)
  if (o.domainSearch?.length) args.push(`--dhcp-option=option6:domain-search,${o.domainSearch.join(',')}`)
  if (o.rapidCommit) args.push('--dhcp-rapid-commit')
  args.push(...(o.extraArgs ?? []))
  return { args, leaseFile }
}

/** Starts dnsmasq (DHCPv6 only, DNS off) in `ns`; returns once it listens on UDP 547. */
export async function startDnsmasq(ns: Namespace, options: DnsmasqOptions): Promise<DnsmasqServer> {
  const { args, leaseFile } = dnsmasqArgs(ns.lab, options)
  await ns.run(['dnsmasq', '--test', ...args]).catch(err => {
    throw new Error(`dnsmasq rejects its arguments ${args.join(' ')}: ${(err as Error).message}`)
  })
  const daemon = ns.spawn(options.name ?? 'dnsmasq', ['dnsmasq', ...args])
  await waitForUdpListener(ns, 547, daemon)
  return { daemon, leaseFile, args }
}

export interface DnsmasqLease {
  expiry: number
  iaid: number
  address: string
  hostname: string
  duid: string
}

/** Reads dnsmasq's lease file: v6 lines follow the "duid SERVER-DUID" line. */
export function readDnsmasqLeases(leaseFile: string): { serverDuid?: string; leases: DnsmasqLease[] } {
  if (!existsSync(leaseFile)) return { leases: [] }
  let serverDuid: string | undefined
  const leases: DnsmasqLease[] = []
  let inV6 = false
  for (const line of readFileSync(leaseFile, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[0] === 'duid') {
      serverDuid = f[1]
      inV6 = true
    } else if (inV6 && f.length >= 5) {
      leases.push({ expiry: Number(f[0]), iaid: Number(f[1]), address: f[2] ?? '', hostname: f[3] ?? '', duid: f[4] ?? '' })
    }
  }
  return { ...(serverDuid ? { serverDuid } : {}), leases }
}

// ---------------------------------------------------------------------------------------------
// Captures

export interface Capture {
  daemon: Daemon
  file: string
  /** Stops the capture (SIGINT, as an interactive user would) and waits until the file is complete. */
  stop(): Promise<void>
}

export const DHCPV6_CAPTURE_FILTER = 'udp port 546 or udp port 547'
/** DHCPv6 plus Router Solicitations and Advertisements only (no ND/MLD noise). */
export const DHCPV6_AND_RA_CAPTURE_FILTER = `${DHCPV6_CAPTURE_FILTER} or (icmp6 and (ip6[40] == 133 or ip6[40] == 134))`

/** Starts dumpcap on `ifname` in `ns`, writing pcapng to `file`; returns once it is capturing. */
export async function startCapture(
  ns: Namespace,
  ifname: string,
  file: string,
  options: { routerAdvertisements?: boolean; name?: string } = {},
): Promise<Capture> {
  const filter = options.routerAdvertisements ? DHCPV6_AND_RA_CAPTURE_FILTER : DHCPV6_CAPTURE_FILTER
  const daemon = ns.spawn(options.name ?? 'dumpcap', ['dumpcap', '-i', ifname, '-f', filter, '-w', file])
  await waitForLog(daemon, /Capturing on/)
  return {
    daemon,
    file,
    async stop() {
      const result = await signalAndWait(daemon, 'SIGINT')
      if (result !== 0) throw new Error(`dumpcap ended with ${result}; log:\n${readLog(daemon)}`)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Clients

/** A DHCP client hook script that changes nothing on the system (optionally exits 3 to Decline). */
export function noopClientScript(lab: NetnsLab, name: string, options: { declineOnBound?: boolean } = {}): string {
  const file = join(lab.dir, `${name}-script.sh`)
  const body = options.declineOnBound
    ? // dhclient treats exit status 3 from BOUND6 as "duplicate address detected" and Declines
      '#!/bin/sh\necho "reason=$reason" >> "$0.calls"\ncase "$reason" in BOUND6) [ -e "$0.declined" ] || { touch "$0.declined"; exit 3; } ;; esac\nexit 0\n'
    : '#!/bin/sh\necho "reason=$reason" >> "$0.calls"\nexit 0\n'
  writeFileSync(file, body)
  chmodSync(file, 0o755)
  return file
}

export interface DhclientOptions {
  /** Which IAs: "na" (default), "pd", "na+pd", or "stateless" (Information-Request, -S). */
  mode?: 'na' | 'pd' | 'na+pd' | 'stateless'
  duidType?: 'LL' | 'LLT'
  /** Extra dhclient.conf lines, e.g. "send dhcp6.rapid-commit;". */
  config?: string[]
  /** Make the hook script exit 3 on the first BOUND6, so dhclient sends a Decline. */
  declineOnBound?: boolean
  name?: string
}

export interface DhclientClient {
  daemon: Daemon
  name: string
  leaseFile: string
  pidFile: string
  configFile: string
  scriptFile: string
  argv: string[]
}

function dhclientModeFlags(mode: DhclientOptions['mode']): string[] {
  switch (mode ?? 'na') {
    case 'na': return ['-N']
    case 'pd': return ['-P']
    case 'na+pd': return ['-N', '-P']
    case 'stateless': return ['-S']
  }
}

/** dhclient -6 in the foreground, all its files in lab.dir, a hook script that changes nothing. */
export function startDhclient(ns: Namespace, ifname: string, options: DhclientOptions = {}): DhclientClient {
  const lab = ns.lab
  const name = options.name ?? 'dhclient'
  const leaseFile = join(lab.dir, `${name}.leases`)
  const pidFile = join(lab.dir, `${name}.pid`)
  const configFile = join(lab.dir, `${name}.conf`)
  const scriptFile = noopClientScript(lab, name, { declineOnBound: options.declineOnBound ?? false })
  writeFileSync(configFile, [
    'also request dhcp6.name-servers, dhcp6.domain-search;',
    ...(options.config ?? []), '',
  ].join('\n'))
  const argv = [
    'dhclient', '-6', ...dhclientModeFlags(options.mode), ...(options.duidType ? ['-D', options.duidType] : []),
    '-v', '-lf', leaseFile, '-pf', pidFile, '-cf', configFile, '-sf', scriptFile,
  ]
  const daemon = ns.spawn(name, [...argv, '-d', ifname])
  return { daemon, name, leaseFile, pidFile, configFile, scriptFile, argv: [...argv, ifname] }
}

/**
 * `dhclient -6 -r` with the client's own files: stops the running client (through its pid file)
 * and sends a Release for the lease in its lease file, waiting for the server's Reply.
 */
export async function releaseDhclient(client: DhclientClient, ns: Namespace, timeoutMs = 20000): Promise<void> {
  const [cmd, ...rest] = client.argv
  await ns.run([cmd ?? 'dhclient', '-r', ...rest], { timeoutMs })
  await Promise.race([client.daemon.exited, new Promise(r => setTimeout(r, 3000))])
}

/** Addresses (iaaddr) and prefixes (iaprefix) of the newest lease6 block in a dhclient lease file. */
export function readDhclientLease(leaseFile: string): { addresses: string[]; prefixes: string[]; raw: string } {
  if (!existsSync(leaseFile)) return { addresses: [], prefixes: [], raw: '' }
  const text = readFileSync(leaseFile, 'utf8')
  const start = text.lastIndexOf('lease6 {')
  if (start < 0) return { addresses: [], prefixes: [], raw: '' }
  const raw = text.slice(start)
  const addresses = [...raw.matchAll(/iaaddr ([0-9a-f:]+) \{/g)].map(m => m[1] ?? '')
  const prefixes = [...raw.matchAll(/iaprefix ([0-9a-f:]+\/\d+) \{/g)].map(m => m[1] ?? '')
  return { addresses, prefixes, raw }
}

export interface Dhcp6cOptions {
  ia?: Array<'na' | 'pd'>
  stateless?: boolean
  rapidCommit?: boolean
  name?: string
}

export interface Dhcp6cClient {
  daemon: Daemon
  configFile: string
  /** The lab directory bind-mounted over /var/lib/dhcpv6 (holds dhcp6c_duid). */
  stateDir: string
}

/** WIDE dhcp6c in the foreground; its DUID file (hard-coded /var/lib/dhcpv6) lands in lab.dir. */
export function startDhcp6c(ns: Namespace, ifname: string, options: Dhcp6cOptions = {}): Dhcp6cClient {
  const lab = ns.lab
  const name = options.name ?? 'dhcp6c'
  const stateDir = labSubdir(lab, `${name}-var`)
  const configFile = join(lab.dir, `${name}.conf`)
  const ia = options.ia ?? ['na']
  const lines = [`interface ${ifname} {`]
  if (options.stateless) lines.push('  information-only;')
  else for (const kind of ia) lines.push(`  send ia-${kind} 1;`)
  if (options.rapidCommit) lines.push('  send rapid-commit;')
  lines.push('  request domain-name-servers;', '  request domain-name;', '};')
  if (!options.stateless) for (const kind of ia) lines.push(`id-assoc ${kind} 1 { };`)
  writeFileSync(configFile, lines.join('\n') + '\n')
  const argv = ['dhcp6c', '-f', '-D', '-c', configFile, '-p', join(lab.dir, `${name}.pid`), ifname]
  const daemon = ns.spawn(name, withPrivateMounts([{ source: stateDir, target: '/var/lib/dhcpv6' }], argv))
  return { daemon, configFile, stateDir }
}

export interface DhcpcdOptions {
  ia?: Array<'na' | 'pd'>
  /** Information-Request only (no IA). */
  stateless?: boolean
  rapidCommit?: boolean
  /** More dhcpcd.conf lines for the interface, e.g. "nodelay". */
  extraConfig?: string[]
  name?: string
}

export interface DhcpcdClient {
  daemon: Daemon
  configFile: string
  /** Lab directories bind-mounted over /var/lib/dhcpcd and /run/dhcpcd. */
  dbDir: string
  runDir: string
}

/**
 * dhcpcd, IPv6 only, in the foreground. Its compiled-in DBDIR (/var/lib/dhcpcd: DUID, leases,
 * secret) and RUNDIR (/run/dhcpcd: pid, control socket) are lab directories in a private mount
 * namespace; its hook script is ours and does nothing. dhcpcd handles RAs itself and starts
 * DHCPv6 according to the M/O flags.
 */
export function startDhcpcd(ns: Namespace, ifname: string, options: DhcpcdOptions = {}): DhcpcdClient {
  const lab = ns.lab
  const name = options.name ?? 'dhcpcd'
  const dbDir = labSubdir(lab, `${name}-db`)
  const runDir = labSubdir(lab, `${name}-run`)
  const configFile = join(lab.dir, `${name}.conf`)
  const lines = ['ipv6only', 'duid', 'option domain_name_servers, domain_search', `interface ${ifname}`]
  if (options.rapidCommit) lines.push('option rapid_commit')
  lines.push(...(options.extraConfig ?? []))
  if (!options.stateless) {
    let iaid = 1
    for (const kind of options.ia ?? ['na']) lines.push(kind === 'na' ? `ia_na ${iaid++}` : `ia_pd ${iaid++}`)
  }
  writeFileSync(configFile, lines.join('\n') + '\n')
  const script = noopClientScript(lab, name)
  const argv = ['dhcpcd', '-6', '-B', '-d', '-f', configFile, '-c', script, ifname]
  const daemon = ns.spawn(name, withPrivateMounts([
    { source: dbDir, target: '/var/lib/dhcpcd' },
    { source: runDir, target: '/run/dhcpcd' },
  ], argv, { ownPidNamespace: true }))
  return { daemon, configFile, dbDir, runDir }
}
