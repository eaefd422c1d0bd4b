// The real parts behind the daemon's ports: the ClientMachine on UDP 546, iproute2 for addresses
// and links, the resolv.conf fragment, the lease/DUID/IAID stores, the hook script, RaMonitor,
// the rtnetlink link watch and rdisc6 for the Router Solicitation.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { MathRandom, RealClock } from '../client/clock.js'
import { ClientMachine, type ClientEffects, type HookNotice } from '../client/machine/index.js'
import { profile as profileByName } from '../client/profiles.js'
import { decodeDuid } from '../dhcpv6/duid.js'
import type { Logger } from '../log/logger.js'
import { RaMonitor } from '../ra/index.js'
import { DuidStore, duidEn, duidLl, duidLlt, duidToHex, duidUuid } from '../state/duid.js'
import { IaidStore, type InterfaceIdentity } from '../state/iaid.js'
import { LeaseStore, type StoredLease } from '../state/lease-store.js'
import { AddressManager } from '../system/addresses.js'
import { ExecRunner } from '../system/command.js'
import { runHook, type HookEvent, type HookLeaseInfo } from '../system/hooks.js'
import { LinkWatcher } from '../system/link-watch.js'
import { removeResolvFragment, writeResolvFragment } from '../system/resolv.js'
import { UdpTransport } from '../transport/udp.js'
import type { DaemonSettings, DuidSetting } from './config.js'
import type { ClientContext, DaemonPorts, ManagedClient } from './daemon.js'
import { DownstreamPrefix } from './downstream.js'

export function interfaceIdentity(ifname: string): InterfaceIdentity {
  const ifindex = Number.parseInt(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'), 10)
  let mac: Uint8Array | undefined
  try {
    const text = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim()
    if (/^([0-9a-f]{2}:)+[0-9a-f]{2}$/i.test(text)) mac = Buffer.from(text.replace(/:/g, ''), 'hex')
  } catch { /* no hardware address */ }
  return mac ? { ifindex, mac } : { ifindex }
}

function duidType(bytes: Uint8Array): number {
  return bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1
}

/**
 * The host's DUID (one per host, RFC 8415 section 11): the persisted one, unless the config asks
 * for another type (or an exact value), in which case the new one replaces it.
 */
export async function hostDuid(stateDir: string, setting: DuidSetting, interfaces: readonly string[], log: Logger): Promise<Uint8Array> {
  const store = new DuidStore(stateDir)
  const mac = interfaces.map(interfaceIdentity).find(identity => identity.mac && identity.mac.some(b => b !== 0))?.mac
  const needMac = (type: string) => {
    if (!mac) throw new Error(`DUID-${type} needs a hardware address and none of ${interfaces.join(', ')} has one: use --duid-type uuid or en:NUMBER:HEX`)
    return mac
  }
  const build = (): Uint8Array => {
    switch (setting.type) {
      case 'llt': return duidLlt(needMac('LLT'), Date.now())
      case 'll': return duidLl(needMac('LL'))
      case 'uuid': return duidUuid()
      case 'en': return duidEn(setting.enterpriseNumber, Buffer.from(setting.identifierHex, 'hex'))
      case 'raw': return Buffer.from(setting.hex, 'hex')
    }
  }
  const wantedType = { llt: 1, en: 2, ll: 3, uuid: 4, raw: -1 }[setting.type]
  const loaded = await store.loadOrCreate(build)
  if (loaded.replaced) log.warn(`the DUID file was unreadable (${loaded.replaced.reason}); moved to ${loaded.replaced.movedTo} and created a new DUID`)
  let duid = loaded.duid
  const matches = setting.type === 'raw' ? duidToHex(duid) === setting.hex
    : setting.type === 'en' ? duidToHex(duid) === duidToHex(build())
      : duidType(duid) === wantedType
  if (!matches) {
    duid = build()
    await store.save(duid)
    log.info({ duid: duidToHex(duid) }, `DUID replaced to follow duid-type ${setting.type}`)
  } else if (loaded.created) {
    log.info({ duid: duidToHex(duid) }, 'created the DUID')
  }
  return duid
}

function leaseSide(lease: StoredLease | undefined): HookLeaseInfo[] {
  if (!lease) return [{}]
  const common: HookLeaseInfo = {
    nameServers: lease.dnsServers, domainSearch: lease.domainSearch, ntpServers: lease.ntpServers,
    serverId: Buffer.from(lease.serverDuid, 'hex'), starts: Math.floor(lease.obtainedAt / 1000), lifeStarts: Math.floor(lease.obtainedAt / 1000),
  }
  const sides: HookLeaseInfo[] = []
  for (const ia of lease.iaNa) {
    for (const a of ia.addresses) {
      sides.push({ ...common, iaid: ia.iaid, renew: ia.t1, rebind: ia.t2, ip6Address: a.address, ip6Prefixlen: 128, maxLife: a.validLifetime, preferredLife: a.preferredLifetime })
    }
  }
  for (const ia of lease.iaPd) {
    for (const p of ia.prefixes) {
      sides.push({ ...common, iaid: ia.iaid, renew: ia.t1, rebind: ia.t2, ip6Prefix: `${p.prefix}/${p.length}`, maxLife: p.validLifetime, preferredLife: p.preferredLifetime })
    }
  }
  return sides.length > 0 ? sides : [common]
}

/**
 * Reasons for which the lease (or part of it) is gone. dhclient hands such a lease to its script
 * as old_* (dhclient-script's RELEASE6/EXPIRE6/STOP6 branch deletes old_ip6_address), so do we.
 */
const LEASE_GONE: ReadonlySet<HookNotice['reason']> = new Set(['RELEASE6', 'EXPIRE6', 'STOP6', 'DECLINE6'])

/**
 * dhclient runs its script once per address: so do we (and once per delegated prefix).
 * `stateless` is the configuration of a stateless client (no lease), for INFORM6.
 */
export function hookEvents(ifname: string, notice: HookNotice, clientId: Uint8Array, stateless?: Pick<HookLeaseInfo, 'nameServers' | 'domainSearch'>): HookEvent[] {
  if (LEASE_GONE.has(notice.reason)) {
    const whole = notice.lease ? leaseSide(notice.lease) : []
    // EXPIRE6 and DECLINE6 name the entries concerned ("ADDRESS" or "PREFIX/LEN"); the rest of the
    // lease, if any, stays. RELEASE6 and STOP6 concern the whole lease.
    const partial = (notice.reason === 'EXPIRE6' || notice.reason === 'DECLINE6') && notice.addresses && notice.addresses.length > 0
    const gone = partial
      ? notice.addresses!.map(label => whole.find(side => side.ip6Address === label || side.ip6Prefix === label)
        ?? (label.includes('/') ? { ip6Prefix: label } : { ip6Address: label, ip6Prefixlen: 128 }))
      : whole.length > 0 ? whole : [{}]
    return gone.map(side => ({ reason: notice.reason, interface: ifname, old: { ...side, clientId } }))
  }
  if (notice.reason === 'DELEGATED6') {
    // one call per delegated prefix received, never for the IA_NA addresses beside it
    const prefixes = leaseSide(notice.lease).filter(side => side.ip6Prefix !== undefined && (!notice.prefixes || notice.prefixes.includes(side.ip6Prefix)))
    return prefixes.map(side => ({ reason: notice.reason, interface: ifname, new: { ...side, clientId } }))
  }
  const newSides = leaseSide(notice.lease).map(side => ({ ...(notice.lease ? {} : stateless), ...side, clientId }))
  const oldSides = notice.old ? leaseSide(notice.old) : []
  return newSides.map((side, i) => {
    const event: HookEvent = { reason: notice.reason, interface: ifname, new: side }
    const old = oldSides[i]
    if (old) event.old = old
    return event
  })
}

async function createClient(context: ClientContext, clientDuid: Uint8Array, logger: Logger): Promise<ManagedClient> {
  const { ifname, settings } = context
  const log = logger.child({ interface: ifname })
  const runner = new ExecRunner()
  const addresses = new AddressManager(ifname, runner)
  const leases = new LeaseStore(context.daemon.stateDir)
  const clock = new RealClock()
  const transport = await UdpTransport.open({ ifname, clock, onError: err => log.warn({ err }, `UDP socket error: ${err.message}`) })
  const stored = await leases.load(ifname)
  if (stored.status === 'moved-aside') log.warn(`the lease file was unreadable (${stored.reason}): moved to ${stored.movedTo}`)
  let machine: ClientMachine | undefined
  const downstream = settings.pdDownstream && new DownstreamPrefix(settings.pdDownstream, new AddressManager(settings.pdDownstream.interface, runner), log)
  // A failure downstream is logged; it must not keep the hook script from running.
  const followDownstream = async (what: string, step: () => Promise<void>) => {
    try { await step() } catch (err) { log.error({ err, downstream: settings.pdDownstream?.interface }, `downstream /64 on ${settings.pdDownstream?.interface} (${what}) failed: ${(err as Error).message}`) }
  }
  const effects: ClientEffects = {
    async applyAddress(address) {
      await addresses.apply({ address: address.address, validLifetime: address.validLifetime, preferredLifetime: address.preferredLifetime })
      // DAD runs after the address is added; a duplicate leads to Decline (RFC 8415 section 18.2.8).
      void addresses.waitForDad(address.address, clock, { justApplied: true }).then(outcome => {
        if (outcome === 'dadfailed') machine?.onDadFailed(address.address)
        // A Reconfigure may come to the leased address (RFC 8415 section 18.3.11); it can be
        // bound only once DAD is over.
        if (outcome === 'ok' && settings.reconfigureAccept) {
          transport.listenOn(address.address).catch(err => log.warn({ err }, `cannot receive Reconfigure on ${address.address}: ${(err as Error).message}`))
        }
      }, err => log.warn({ err }, `DAD watch of ${address.address} failed`))
    },
    async removeAddress(address) {
      await transport.stopListening(address)
      await addresses.remove(address)
    },
    async applyDns(dns) { await writeResolvFragment(settings.resolvConf, ifname, { nameservers: dns.servers, search: dns.search }) },
    async clearDns() { await removeResolvFragment(settings.resolvConf) },
    async saveLease(lease) { await leases.save(lease) },
    async removeLease() {
      await leases.remove(ifname)
      if (downstream) await followDownstream('lease forgotten', () => downstream.leaseForgotten())
    },
    async hook(notice) {
      if (downstream) await followDownstream(notice.reason, () => downstream.onNotice(notice))
      if (!settings.hook) return
      // A stateless Information-request's Reply comes with no lease: dhclient -S still gives
      // INFORM6 its new_dhcp6_name_servers/domain_search, so take them from the client.
      const status = notice.reason === 'INFORM6' && !notice.lease ? machine?.status() : undefined
      const stateless = status && { nameServers: status.dnsServers, domainSearch: status.domainSearch }
      for (const event of hookEvents(ifname, notice, clientDuid, stateless)) {
        const result = await runHook(settings.hook, event, { onLine: line => log.info({ hook: settings.hook }, line) })
        if (result.exitCode !== 0) log.warn({ reason: event.reason, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut }, 'hook script failed')
      }
    },
  }
  const options: ConstructorParameters<typeof ClientMachine>[0] = {
    interfaceName: ifname,
    clientDuid: decodeDuid(clientDuid, 0, clientDuid.length),
    transport: {
      send: (payload, destination) => transport.send(payload, destination.kind === 'multicast' ? 'all-servers' : { unicast: destination.address }),
    },
    effects,
    clock,
    random: new MathRandom(),
    profile: profileByName(settings.profile),
    onRa: settings.onRa,
    defaultSpec: context.defaultSpec,
    rapidCommit: settings.rapidCommit,
    reconfigureAccept: settings.reconfigureAccept,
    releaseOnStop: settings.releaseOnStop,
    solicitMaxDelayMs: settings.solMaxDelay * 1000,
    onEvent: context.onEvent,
  }
  if (stored.status === 'loaded') options.storedLease = stored.value
  machine = new ClientMachine(options)
  const running = machine
  transport.onMessage((bytes, sender) => running.receive(bytes, { source: sender.address }))
  const client: ManagedClient = { control: machine, close: () => transport.close() }
  if (downstream) client.downstream = () => downstream.status()
  return client
}

function solicitRouter(ifname: string): Promise<void> {
  // -1: stop at the first answer; the RA itself reaches us through the kernel and RaMonitor.
  return new Promise((resolve, reject) => {
    execFile('rdisc6', ['-1', '-q', '-r', '3', '-w', '1000', ifname], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve()
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return reject(new Error('rdisc6 is not installed (apt-get install ndisc6)'))
      reject(new Error(`rdisc6 ${ifname}: ${String(stderr).trim() || err.message}`))
    })
  })
}

/** The real ports for `ra6dhcp run`. */
export async function realPorts(settings: DaemonSettings, logger: Logger, reloadSettings: () => DaemonSettings, version: string): Promise<DaemonPorts> {
  const names = [...settings.interfaces.keys()]
  const duid = await hostDuid(settings.stateDir, settings.duid, names, logger)
  const iaidStore = new IaidStore(settings.stateDir)
  const runner = new ExecRunner()
  const raFeed = new RaMonitor({ source: settings.raSource, interfaces: names })
  const ports: DaemonPorts = {
    createClient: context => createClient(context, duid, logger),
    raFeed,
    async iaids(ifname, counts) {
      const identity = interfaceIdentity(ifname)
      const na: number[] = []
      const pd: number[] = []
      for (let i = 0; i < counts.na; i++) na.push(await iaidStore.iaidFor(ifname, 'na', i, identity))
      for (let i = 0; i < counts.pd; i++) pd.push(await iaidStore.iaidFor(ifname, 'pd', i, identity))
      return { na, pd }
    },
    solicitRouter,
    async setLink(ifname, up) { await runner.run(['ip', 'link', 'set', 'dev', ifname, up ? 'up' : 'down']) },
    logger,
    reloadSettings,
    version,
  }
  if (settings.linkWatch) ports.linkFeed = new LinkWatcher({ interfaces: names, debounceMs: settings.linkDebounceMs })
  return ports
}
