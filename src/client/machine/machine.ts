// One interface's DHCPv6 client (RFC 8415, with the RFC 3315 constant profile): explicit states,
// explicit events, and every transition in `handle` below. Time, randomness, the transport and
// the system effects are injected (ports.ts), so the daemon runs it for real and the unit tests
// run it in virtual time.
import { UsageError } from '../../cli/usage-error.js'
import { MessageType, StatusCode, statusNameByCode } from '../../dhcpv6/constants.js'
import { duidEquals } from '../../dhcpv6/duid.js'
import { DhcpDecodeError } from '../../dhcpv6/errors.js'
import { findOption, findOptions } from '../../dhcpv6/find.js'
import { formatIpv6 } from '../../dhcpv6/ipv6.js'
import { decodeMessage, encodeMessage } from '../../dhcpv6/message.js'
import type { ClientServerMessage, Duid, IaNaOption, IaPdOption, Message, Option } from '../../dhcpv6/model.js'
import type { StoredLease } from '../../state/lease-store.js'
import type { ClientControl, ClientState, ClientStatus, LeaseStatus, RaTrigger, StartSpec } from '../api.js'
import type { Clock, Random, TimerHandle } from '../clock.js'
import { applyServerMaxRt, profile as profileByName, type Profile } from '../profiles.js'
import { messageParameters, Retransmission, type RetransmittedMessage } from '../retransmit.js'
import {
  INFINITE_LIFETIME, canonicalAddress, duidToHex, earliestValidEnd, effectiveTimers, entryLabel, fromStoredLease,
  latestValidEnd, lifetimeEnd, secondsLeft, toStoredLease, validEnd, type Lease, type LeaseEntry, type LeaseIa, type Stateless,
} from './lease.js'
import { buildMessage, type IaInMessage, type MessageContent, type MessageSettings, type OutgoingType } from './messages.js'
import {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS, type ClientEffects, type ClientEvent, type ClientTransport, type Destination,
  type HookNotice, type IaSummary, type ReceivedFrom,
} from './ports.js'
import { isRkap, reconfigureKeyFrom, takeReconfigureKey, verifyReconfigure } from './rkap.js'

export type OnRaMode = 'auto' | 'solicit' | 'ignore'
export const ON_RA_MODES: readonly OnRaMode[] = ['auto', 'solicit', 'ignore']

export interface ClientMachineOptions {
  interfaceName: string
  clientDuid: Duid
  transport: ClientTransport
  effects: ClientEffects
  clock: Clock
  random: Random
  /** Constant table; rfc8415 by default. */
  profile?: Profile
  /** What an accepted RA does (`--on-ra`); 'auto' by default. */
  onRa?: OnRaMode
  /** What RA-started operation asks for (the configured IAs and ORO); `start` may override it. */
  defaultSpec: StartSpec
  /** Include Rapid Commit in Solicit and accept a Rapid Commit Reply (off by default). */
  rapidCommit?: boolean
  /** Include Reconfigure Accept and act on authenticated Reconfigures (off by default). */
  reconfigureAccept?: boolean
  /** Ask for NTP servers (option 56); on by default. */
  requestNtp?: boolean
  /** `stop` sends Release first (off by default: the lease stays for a later Confirm). */
  releaseOnStop?: boolean
  /** Upper bound of the random delay before the first Solicit (ms); SOL_MAX_DELAY by default; 0 allowed. */
  solicitMaxDelayMs?: number
  /** Upper bound of the random delay before the first Information-request (ms); INF_MAX_DELAY by default. */
  informationRequestMaxDelayMs?: number
  /** A lease loaded from the state directory: the first stateful start Confirms it (RFC 8415 18.2.3). */
  storedLease?: StoredLease
  /** Wall clock (ms since the epoch) for the persisted lease; Date.now by default. */
  wallClock?: () => number
  /** One event per message sent or received, state change, note and effect failure. */
  onEvent?: (event: ClientEvent) => void
}

type TimerKind = 'exchange' | 'renew' | 'rebind' | 'expiry' | 'refresh'

/** Everything that can happen to the machine. */
export type MachineEvent =
  | { type: 'ra'; ra: RaTrigger }
  | { type: 'start'; spec: StartSpec }
  | { type: 'stop' }
  | { type: 'release' }
  | { type: 'ifdown' }
  | { type: 'ifup' }
  | { type: 'timer'; timer: TimerKind }
  | { type: 'message'; message: ClientServerMessage; raw: Uint8Array; from: ReceivedFrom }
  | { type: 'dad-failed'; address: string }

/** What an exchange is for; it decides how a Reply (or giving up) is handled. */
type Purpose =
  | 'solicit' | 'request' | 'renew' | 'rebind' | 'confirm' | 'rebind-confirm' | 'release' | 'decline' | 'information-request'

interface Exchange {
  purpose: Purpose
  type: OutgoingType
  xid: number
  rtx: Retransmission
  /** IAs and server for the message; re-read at each transmission. */
  content: () => MessageContent
  /** Unicast allowed for this exchange (Server Unicast received, no UseMulticast since). */
  unicast?: string
  /** Request: the server chosen. */
  server?: { duid: Duid; address: string }
  /** Information-request started by a Reconfigure while bound: go back to bound afterwards. */
  returnToBound?: boolean
  /** Decline: the addresses being declined, per IA_NA. */
  declined?: Map<number, string[]>
  /** Release: resolves the `release()` promise. */
  done?: () => void
}

/** The Reconfigure an exchange answers: its server, and the options its ORO asked for. */
interface ReconfigureAnswer {
  serverDuid: Duid
  optionCodes: number[]
}

function optionsAskedFor(answering: ReconfigureAnswer | undefined): { requestedOptions?: number[] } {
  return answering && answering.optionCodes.length > 0 ? { requestedOptions: answering.optionCodes } : {}
}

interface Advertised {
  message: ClientServerMessage
  serverDuid: Duid
  source: string
  preference: number
}

const S = 1000
const CLIENT_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'solicit', 'request', 'confirm', 'renew', 'rebind', 'release', 'decline', 'information-request',
])
/** Retransmission parameters per outgoing purpose. */
const PARAMETERS_OF: Record<Purpose, RetransmittedMessage> = {
  solicit: 'Solicit', request: 'Request', renew: 'Renew', rebind: 'Rebind', confirm: 'Confirm',
  // RFC 8415 section 18.2.12: after a possible link change a client holding delegated prefixes
  // Rebinds, with Confirm's retransmission parameters.
  'rebind-confirm': 'Confirm',
  release: 'Release', decline: 'Decline', 'information-request': 'Information-request',
}
const TYPE_OF: Record<Purpose, OutgoingType> = {
  solicit: 'solicit', request: 'request', renew: 'renew', rebind: 'rebind', confirm: 'confirm', 'rebind-confirm': 'rebind',
  release: 'release', decline: 'decline', 'information-request': 'information-request',
}
const STATE_OF: Record<Purpose, ClientState> = {
  solicit: 'soliciting', request: 'requesting', renew: 'renewing', rebind: 'rebinding', confirm: 'confirming',
  'rebind-confirm': 'confirming', release: 'releasing', decline: 'declining', 'information-request': 'information-requesting',
}

function statusOf(options: readonly Option[]): { code: number; name: string; message: string } | undefined {
  const s = findOption(options, 'status-code')
  if (!s) return undefined
  return { code: s.status, name: statusNameByCode.get(s.status) ?? `status-${s.status}`, message: s.message }
}

function iaSummaries(options: readonly Option[]): IaSummary[] {
  const out: IaSummary[] = []
  for (const o of options) {
    if (o.kind !== 'ia-na' && o.kind !== 'ia-pd') continue
    const values = o.kind === 'ia-na'
      ? findOptions(o.options, 'ia-address').map(a => formatIpv6(a.address))
      : findOptions(o.options, 'ia-prefix').map(p => `${formatIpv6(p.prefix)}/${p.prefixLength}`)
    const summary: IaSummary = { kind: o.kind, iaid: o.iaid, values }
    const status = statusOf(o.options)
    if (status) summary.status = status.name
    out.push(summary)
  }
  return out
}

export class ClientMachine implements ClientControl {
  readonly interfaceName: string
  private readonly options: ClientMachineOptions
  private readonly clock: Clock
  private readonly random: Random
  private readonly wallClock: () => number
  private profile: Profile
  private readonly onRaMode: OnRaMode
  private currentState: ClientState = 'idle'
  private spec: StartSpec
  /** The operation the user or an RA asked for; undefined until something started it. */
  private active: 'stateful' | 'stateless' | undefined
  private lease: Lease | undefined
  private stateless: Stateless | undefined
  private exchange: Exchange | undefined
  private advertises: Advertised[] = []
  private readonly timers = new Map<TimerKind, TimerHandle>()
  private linkUp = true
  /** The link may have changed (restart with a stored lease, or ifup): stateful start Confirms. */
  private linkChanged = false
  private firstSolicitSent = false
  private firstInformationRequestSent = false
  private readonly counters: Record<string, number> = {}
  private readonly effectQueue: { name: string; run: (effects: ClientEffects) => void | Promise<void> }[] = []
  private effectRunning = false
  private effectsIdle: (() => void)[] = []
  private releaseWaiters: (() => void)[] = []

  constructor(options: ClientMachineOptions) {
    this.options = options
    this.interfaceName = options.interfaceName
    this.clock = options.clock
    this.random = options.random
    this.wallClock = options.wallClock ?? Date.now
    this.profile = options.profile ?? profileByName('rfc8415')
    this.onRaMode = options.onRa ?? 'auto'
    if (!ON_RA_MODES.includes(this.onRaMode)) throw new UsageError(`unknown on-ra mode '${String(this.onRaMode)}': use --on-ra auto, solicit or ignore`)
    for (const [name, value] of [['solicitMaxDelayMs', options.solicitMaxDelayMs], ['informationRequestMaxDelayMs', options.informationRequestMaxDelayMs]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new UsageError(`${name} must be a number of milliseconds >= 0 (0 sends at once), got ${value}`)
    }
    this.spec = checkSpec(options.defaultSpec)
    if (options.storedLease) {
      if (options.storedLease.interface !== options.interfaceName) throw new Error(`stored lease is for ${options.storedLease.interface}, not ${options.interfaceName}`)
      this.lease = fromStoredLease(options.storedLease, this.clock.now(), this.wallClock())
      if (this.lease) {
        this.linkChanged = true
        this.armExpiry()
      } else {
        this.note('stored lease has expired: starting without it')
      }
    }
  }

  // ---- ClientControl -------------------------------------------------------------------------

  get state(): ClientState {
    return this.currentState
  }

  onRa(ra: RaTrigger): void {
    this.handle({ type: 'ra', ra })
  }

  start(spec: StartSpec): void {
    this.handle({ type: 'start', spec: checkSpec(spec) })
  }

  async stop(): Promise<void> {
    if (this.options.releaseOnStop && this.lease) await this.release()
    this.handle({ type: 'stop' })
    await this.settled()
  }

  async restart(): Promise<void> {
    await this.stop()
    this.linkChanged = this.lease !== undefined
    this.start(this.spec)
  }

  async release(): Promise<void> {
    if (!this.lease) return this.settled()
    const done = new Promise<void>(resolve => this.releaseWaiters.push(resolve))
    this.handle({ type: 'release' })
    await done
    await this.settled()
  }

  ifdown(): void {
    this.handle({ type: 'ifdown' })
  }

  ifup(): void {
    this.handle({ type: 'ifup' })
  }

  /** The daemon's DAD watcher: a leased address failed Duplicate Address Detection (Decline follows). */
  onDadFailed(address: string): void {
    this.handle({ type: 'dad-failed', address: canonicalAddress(address) })
  }

  /** A datagram received on this interface's port 546. */
  receive(payload: Uint8Array, from: ReceivedFrom): void {
    let message: Message
    try {
      message = decodeMessage(payload)
    } catch (err) {
      if (!(err instanceof DhcpDecodeError)) throw err
      this.count('dropped.malformed')
      this.emit({ kind: 'received', interface: this.interfaceName, type: 'malformed', ias: [], source: from.source, accepted: false, reason: `malformed: ${err.message}` })
      return
    }
    if (message.type === 'unknown') return this.dropReceived(message.msgType.toString(), undefined, [], from, 'unknown-message-type')
    // Client and relay message types never go to a client (RFC 8415 section 16).
    if (!isClientServer(message)) return this.dropReceived(message.type, undefined, [], from, 'not-for-client')
    if (CLIENT_MESSAGE_TYPES.has(message.type)) return this.dropReceived(message.type, message.transactionId, [], from, 'not-for-client')
    try {
      this.handle({ type: 'message', message, raw: payload, from })
    } catch (err) {
      // A message must never take the daemon down: count it, say why, keep the state.
      this.count('dropped.internal-error')
      this.note(`internal error handling a ${message.type}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    }
  }

  status(): ClientStatus {
    const now = this.clock.now()
    const leases: LeaseStatus[] = (this.lease?.ias ?? []).map(ia => ({
      kind: ia.kind, iaid: ia.iaid, t1: ia.t1, t2: ia.t2,
      entries: ia.entries.map(e => ({
        value: entryLabel(ia, e), preferredLifetime: e.preferredLifetime, validLifetime: e.validLifetime,
        preferredLeft: secondsLeft(e.since, e.preferredLifetime, now), validLeft: secondsLeft(e.since, e.validLifetime, now),
      })),
    }))
    const config = this.lease ?? this.stateless
    const status: ClientStatus = {
      interface: this.interfaceName, state: this.currentState, profile: this.profile.name, leases,
      dnsServers: [...(config?.dnsServers ?? [])], domainSearch: [...(config?.domainSearch ?? [])], counters: { ...this.counters },
    }
    const server = this.lease?.serverDuid ?? this.stateless?.serverDuid
    if (server) status.serverDuid = duidToHex(server)
    return status
  }

  /** Resolves once every effect issued so far has run. */
  settled(): Promise<void> {
    return new Promise(resolve => this.afterEffects(resolve))
  }

  /** The constants in use (a server's SOL_MAX_RT / INF_MAX_RT applied). */
  get activeProfile(): Profile {
    return this.profile
  }

  // ---- The transitions -------------------------------------------------------------------------

  private handle(event: MachineEvent): void {
    const state = this.currentState
    switch (event.type) {
      case 'ra': {
        this.count(event.ra.replayed ? 'ra.replayed' : 'ra.live')
        if (state === 'stopped' || !this.linkUp) return this.count('ra.ignored')
        if (this.onRaMode === 'ignore') return this.count('ra.ignored')
        if (this.onRaMode === 'solicit') {
          // The original design: every accepted RA starts a Solicit unless an exchange runs.
          if (this.exchange) return this.count('ra.ignored-running')
          this.active = 'stateful'
          return this.beginSolicit('RA (on-ra solicit)')
        }
        if (event.ra.managed) {
          if (state === 'idle' || state === 'information-requesting' || state === 'informed') return this.startStateful('RA with M=1')
        } else if (event.ra.other) {
          if (state === 'idle') return this.startStateless('RA with O=1')
        }
        return this.count('ra.no-change')
      }
      case 'start': {
        if (this.exchange || state === 'bound' || state === 'informed') {
          if (event.spec.mode === (this.active ?? '') ) return this.count('start.ignored-running')
        }
        this.spec = event.spec
        if (!this.linkUp) {
          this.active = event.spec.mode
          return this.note('start: link is down, starting at ifup')
        }
        return event.spec.mode === 'stateful' ? this.startStateful('start verb') : this.startStateless('start verb')
      }
      case 'stop': {
        if (state === 'releasing') this.finishRelease()
        this.cancelExchange()
        this.disarmAll()
        if (this.lease) {
          for (const address of this.leasedAddresses()) this.effect('removeAddress', e => e.removeAddress(address))
          this.effect('saveLease', e => e.saveLease(this.storedLease()))
          this.linkChanged = true
        }
        if (this.lease || this.stateless) this.effect('clearDns', e => e.clearDns())
        this.stateless = undefined
        this.hook({ reason: 'STOP6', ...(this.lease ? { lease: this.storedLease() } : {}) })
        this.active = undefined
        this.forgetFirstMessages()
        return this.setState('stopped', 'stop verb')
      }
      case 'release': {
        const lease = this.lease
        if (!lease) return this.finishRelease()
        if (state === 'releasing') return // the running Release resolves every waiter
        this.cancelExchange()
        this.disarmAll()
        // RFC 8415 section 18.2.7: stop using the leases before sending Release.
        for (const address of this.leasedAddresses()) this.effect('removeAddress', e => e.removeAddress(address))
        this.effect('clearDns', e => e.clearDns())
        this.hook({ reason: 'RELEASE6', lease: this.storedLease(), addresses: leaseLabels(lease) })
        const ias = lease.ias.map(ia => iaInMessage(ia))
        this.setState('releasing', 'release verb')
        // The addresses are gone from the interface before the first Release leaves.
        return this.afterEffects(() => {
          if (this.currentState !== 'releasing' || this.exchange) return
          this.beginExchange('release', 'release verb', {
            content: () => ({ serverDuid: lease.serverDuid, ias }),
            ...(lease.serverUnicast !== undefined ? { unicast: lease.serverUnicast } : {}),
          })
        })
      }
      // Both are idempotent: a link watcher may report the state the machine already knows, and a
      // second ifup must not restart a running exchange or Confirm a second time.
      case 'ifdown': {
        if (!this.linkUp) return this.count('ifdown.already-down')
        this.linkUp = false
        if (state === 'releasing') this.finishRelease()
        this.cancelExchange()
        for (const kind of ['renew', 'rebind', 'refresh'] as const) this.disarm(kind)
        this.linkChanged = this.lease !== undefined || this.stateless !== undefined
        this.forgetFirstMessages()
        if (state !== 'stopped') this.setState('idle', 'link down')
        return
      }
      case 'ifup': {
        if (this.linkUp) return this.count('ifup.already-up')
        this.linkUp = true
        if (state === 'stopped' || this.active === undefined) return
        return this.active === 'stateful' ? this.startStateful('link up') : this.startStateless('link up')
      }
      case 'dad-failed': {
        const declined = this.takeFromLease(event.address)
        if (!declined) return this.count('dad.unknown-address')
        this.count('dad.failed')
        if (state === 'releasing') return
        if (!this.linkUp || state === 'stopped') {
          // Nothing can be sent now; the address is dropped and a later Confirm/Renew carries on.
          this.effect('removeAddress', e => e.removeAddress(event.address))
          return this.hook({ reason: 'DECLINE6', addresses: [event.address], ...(this.lease ? { lease: this.storedLease() } : {}) })
        }
        const previous = this.exchange?.purpose === 'decline' ? this.exchange.declined : undefined
        this.cancelExchange()
        const all = new Map(previous ?? [])
        all.set(declined.iaid, [...(all.get(declined.iaid) ?? []), event.address])
        this.effect('removeAddress', e => e.removeAddress(event.address))
        this.hook({ reason: 'DECLINE6', addresses: [event.address], ...(this.lease ? { lease: this.storedLease() } : {}) })
        const server = declined.server
        return this.beginExchange('decline', `DAD failed for ${event.address}`, {
          content: () => ({ serverDuid: server.duid, ias: [...all].map(([iaid, addresses]) => ({ kind: 'ia-na' as const, iaid, entries: addresses.map(value => ({ value })) })) }),
          declined: all,
          ...(server.unicast !== undefined ? { unicast: server.unicast } : {}),
        })
      }
      case 'timer':
        return this.onTimer(event.timer)
      case 'message':
        return this.onMessage(event.message, event.raw, event.from)
    }
  }

  private onTimer(timer: TimerKind): void {
    const state = this.currentState
    switch (timer) {
      case 'exchange':
        return this.onExchangeTimer()
      // A Solicit or Request that an RA started while a lease was held (--on-ra solicit) must not
      // cost that lease its Renew and Rebind: T1 and T2 take over from it (RFC 8415 18.2.4, 18.2.5).
      case 'renew':
        if (state === 'bound' || (state === 'soliciting' && this.lease)) return this.beginRenew('T1')
        // Likewise an Information-request a Reconfigure started while bound (it never gives up).
        if (state === 'information-requesting' && this.exchange?.returnToBound && this.lease) return this.beginRenew('T1')
        return
      case 'rebind':
        if (state === 'bound' || state === 'renewing') return this.beginRebind('T2')
        if ((state === 'soliciting' || state === 'requesting') && this.lease) return this.beginRebind('T2')
        if (state === 'information-requesting' && this.exchange?.returnToBound && this.lease) return this.beginRebind('T2')
        return
      case 'expiry':
        return this.expireEntries()
      case 'refresh':
        if (state === 'informed') return this.beginInformationRequest('Information Refresh Time')
        return
    }
  }

  /** The exchange timer: the initial delay ended, or a retransmission timeout expired. */
  private onExchangeTimer(): void {
    const ex = this.exchange
    if (!ex) return
    if (ex.rtx.count === 0) return this.transmit(ex)
    const now = this.clock.now()
    // RFC 8415 section 18.2.1: Advertises are collected until the first RT expires.
    if (ex.purpose === 'solicit' && ex.rtx.count === 1 && this.advertises.length > 0) return this.requestBest('first RT over')
    const decision = ex.rtx.timeout(now)
    if (decision.action === 'retransmit') return this.transmit(ex)
    this.count(`gave-up.${ex.type}`)
    this.exchange = undefined
    this.disarm('exchange')
    const why = `${ex.type} gave up (${decision.reason})`
    switch (ex.purpose) {
      case 'request': return this.beginSolicit(why)
      case 'renew': return this.beginRebind(why)
      case 'rebind': return this.expireEntries(true)
      // RFC 8415 section 18.2.3: without a Reply to Confirm, keep using the leases.
      case 'confirm':
      case 'rebind-confirm': return this.resumeBound(why, true)
      case 'release': return this.finishRelease()
      case 'decline': return this.afterDecline(why)
      case 'solicit':
      case 'information-request':
        return // no MRC/MRD: never gives up
    }
  }

  private onMessage(message: ClientServerMessage, raw: Uint8Array, from: ReceivedFrom): void {
    if (message.type === 'reconfigure') return this.onReconfigure(message, raw, from)
    const ias = iaSummaries(message.options)
    const drop = (reason: string) => this.dropReceived(message.type, message.transactionId, ias, from, reason)
    if (message.type !== 'advertise' && message.type !== 'reply') return drop('unexpected-type')
    const ex = this.exchange
    if (!ex || ex.rtx.count === 0) return drop('no-exchange')
    if (message.transactionId !== ex.xid) return drop('wrong-xid')
    // RFC 8415 sections 16.3 and 16.10.
    const serverId = findOption(message.options, 'server-id')
    if (!serverId) return drop('missing-server-id')
    const clientId = findOption(message.options, 'client-id')
    if (!clientId) return drop('missing-client-id')
    if (!duidEquals(clientId.duid, this.options.clientDuid)) return drop('client-id-mismatch')
    const status = statusOf(message.options)
    const accept = () => {
      this.count(`received.${message.type}`)
      const event: ClientEvent = { kind: 'received', interface: this.interfaceName, type: message.type, xid: message.transactionId, ias, source: from.source, accepted: true }
      if (status) event.status = status.name
      this.emit(event)
      if (status) this.count(`status.${status.name}`)
    }
    this.applyServerMaxRt(message)
    if (message.type === 'advertise') {
      if (ex.purpose !== 'solicit') return drop('unexpected-advertise')
      if (!this.offersSomething(message)) return drop('advertise-without-leases')
      accept()
      const preference = findOption(message.options, 'preference')?.value ?? 0
      this.advertises.push({ message, serverDuid: serverId.duid, source: from.source, preference })
      // 255 is taken at once; after the first RT the first valid Advertise is (section 18.2.1).
      if (preference === 255 || ex.rtx.count > 1) return this.requestBest(preference === 255 ? 'preference 255' : 'Advertise after first RT')
      return
    }
    // A Reply.
    if (ex.purpose === 'solicit') {
      if (!(this.options.rapidCommit && findOption(message.options, 'rapid-commit'))) return drop('reply-without-rapid-commit')
      // A Rapid Commit Reply offering nothing is ignored like such an Advertise, so a server
      // without leases cannot make the client Solicit in a tight loop.
      if (!this.offersSomething(message) || status?.code === StatusCode.NotOnLink) return drop('rapid-commit-reply-without-leases')
    }
    if (status?.code === StatusCode.UnspecFail && ex.purpose !== 'release' && ex.purpose !== 'decline') {
      // RFC 8415 section 18.2.10: retry, rate-limited: the retransmission schedule goes on.
      accept()
      return this.count('ignored.unspecfail')
    }
    if (status?.code === StatusCode.UseMulticast && ex.purpose !== 'release' && ex.purpose !== 'decline') {
      accept()
      return this.useMulticast(ex)
    }
    accept()
    switch (ex.purpose) {
      case 'release':
        return this.finishRelease()
      case 'decline':
        if (status?.code === StatusCode.UseMulticast) return this.useMulticast(ex)
        return this.afterDecline('Reply to Decline')
      case 'information-request':
        return this.onInformationReply(message, serverId.duid, ex)
      case 'confirm':
        if (status?.code === StatusCode.NotOnLink) return this.notOnLink('Confirm')
        return this.resumeBound('Reply to Confirm', true, 'BOUND6')
      case 'solicit':
      case 'request':
      case 'renew':
      case 'rebind':
      case 'rebind-confirm':
        return this.onLeaseReply(message, serverId.duid, from, ex)
    }
  }

  // ---- Starting things ---------------------------------------------------------------------------

  private startStateful(why: string): void {
    this.active = 'stateful'
    this.stateless = undefined
    this.disarm('refresh')
    if (this.lease && this.linkChanged) return this.beginConfirm(why)
    if (this.lease) return this.resumeBound(why, true)
    return this.beginSolicit(why)
  }

  private startStateless(why: string): void {
    this.active = 'stateless'
    if (this.lease && this.spec.mode === 'stateless') {
      // Leaving stateful operation: the old lease is not renewed any more; it simply expires.
      this.disarm('renew'); this.disarm('rebind')
    }
    return this.beginInformationRequest(why)
  }

  private beginSolicit(why: string): void {
    this.advertises = []
    const first = !this.firstSolicitSent
    this.firstSolicitSent = true
    const ias: IaInMessage[] = [
      ...this.spec.iaNa.map(iaid => ({ kind: 'ia-na' as const, iaid, entries: [] })),
      ...this.spec.iaPd.map(pd => ({ kind: 'ia-pd' as const, iaid: pd.iaid, entries: [], ...(pd.prefixLength !== undefined ? { prefixLengthHint: pd.prefixLength } : {}) })),
    ]
    // RFC 8415 section 18.2.1: only the first Solicit on the interface is delayed.
    const maxDelayMs = first ? (this.options.solicitMaxDelayMs ?? this.profile.SOL_MAX_DELAY * S) : 0
    this.beginExchange('solicit', why, { content: () => ({ ias }) }, { maxDelayMs })
  }

  private requestBest(why: string): void {
    // Best by preference, then by order of arrival (RFC 8415 section 18.2.9).
    let best: Advertised | undefined
    for (const a of this.advertises) if (!best || a.preference > best.preference) best = a
    this.advertises = []
    if (!best) return
    const chosen = best
    const offered = new Map<string, IaInMessage>()
    for (const ia of [...findOptions(chosen.message.options, 'ia-na'), ...findOptions(chosen.message.options, 'ia-pd')]) {
      offered.set(`${ia.kind}:${ia.iaid}`, iaFromOption(ia))
    }
    // Every configured IA goes in the Request, with what the server offered as hints (18.2.2).
    const ias = this.configuredIas().map(ia => offered.get(`${ia.kind}:${ia.iaid}`) ?? ia)
    this.beginExchange('request', why, { content: () => ({ serverDuid: chosen.serverDuid, ias }), server: { duid: chosen.serverDuid, address: chosen.source } })
  }

  private beginRequestAfterNoBinding(serverDuid: Duid, address: string): void {
    const ias = this.configuredIas().map(ia => {
      const held = this.lease?.ias.find(l => l.kind === ia.kind && l.iaid === ia.iaid)
      return held ? iaInMessage(held) : ia
    })
    this.beginExchange('request', 'NoBinding', { content: () => ({ serverDuid, ias }), server: { duid: serverDuid, address } })
  }

  private beginRenew(why: string, answering?: ReconfigureAnswer): void {
    const lease = this.lease
    if (!lease) return this.beginSolicit(why)
    const mrdMs = this.earliest(ia => ia.rebindAt) - this.clock.now()
    if (!(mrdMs > 0)) return this.beginRebind(why, answering)
    this.beginExchange('renew', why, {
      content: () => ({ serverDuid: lease.serverDuid, ias: this.renewalIas(), ...optionsAskedFor(answering) }),
      ...(lease.serverUnicast !== undefined ? { unicast: lease.serverUnicast } : {}),
    }, { mrdMs })
  }

  private beginRebind(why: string, answering?: ReconfigureAnswer): void {
    const lease = this.lease
    if (!lease) return this.beginSolicit(why)
    const mrdMs = latestValidEnd(lease) - this.clock.now()
    if (!(mrdMs > 0)) return this.expireEntries(true)
    this.disarm('renew')
    this.beginExchange('rebind', why, { content: () => ({ ias: this.renewalIas(), ...optionsAskedFor(answering) }) }, { mrdMs })
  }

  private beginConfirm(why: string): void {
    const lease = this.lease
    if (!lease) return this.beginSolicit(why)
    this.linkChanged = false
    this.disarm('renew'); this.disarm('rebind')
    const hasPrefixes = lease.ias.some(ia => ia.kind === 'ia-pd' && ia.entries.length > 0)
    if (hasPrefixes) return this.beginExchange('rebind-confirm', why, { content: () => ({ ias: this.renewalIas() }) })
    this.beginExchange('confirm', why, { content: () => ({ ias: lease.ias.filter(ia => ia.kind === 'ia-na').map(ia => iaInMessage(ia)) }) })
  }

  private beginInformationRequest(why: string, returnToBound = false, answering?: ReconfigureAnswer): void {
    const first = !this.firstInformationRequestSent
    this.firstInformationRequestSent = true
    this.disarm('refresh')
    const maxDelayMs = first ? (this.options.informationRequestMaxDelayMs ?? this.profile.INF_MAX_DELAY * S) : 0
    // RFC 8415 section 18.2.6: when responding to a Reconfigure, the client MUST include a Server
    // Identifier option with the identifier from that Reconfigure; otherwise none.
    const content = answering
      ? () => ({ ias: [], serverDuid: answering.serverDuid, ...optionsAskedFor(answering) })
      : () => ({ ias: [] })
    this.beginExchange('information-request', why, { content, ...(returnToBound ? { returnToBound } : {}) }, { maxDelayMs })
  }

  private beginExchange(purpose: Purpose, why: string, parts: Omit<Exchange, 'purpose' | 'type' | 'xid' | 'rtx'>, params: { maxDelayMs?: number; mrdMs?: number } = {}): void {
    this.cancelExchange()
    const base = messageParameters(this.profile, PARAMETERS_OF[purpose], params.mrdMs !== undefined ? { mrdMs: params.mrdMs } : {})
    const rtParams = params.maxDelayMs !== undefined ? { ...base, maxDelayMs: params.maxDelayMs } : base
    const rtx = new Retransmission(rtParams, this.random)
    const ex: Exchange = { purpose, type: TYPE_OF[purpose], xid: Math.floor(this.random.next() * 0x1000000), rtx, ...parts }
    this.exchange = ex
    this.setState(STATE_OF[purpose], why)
    const sendAt = rtx.start(this.clock.now())
    if (sendAt <= this.clock.now()) return this.transmit(ex)
    this.arm('exchange', sendAt)
  }

  private transmit(ex: Exchange): void {
    const now = this.clock.now()
    const tx = ex.rtx.transmit(now)
    let message: ClientServerMessage, payload: Uint8Array
    try {
      message = buildMessage(ex.type, ex.xid, tx.elapsedCentiseconds, this.messageSettings(), ex.content())
      payload = encodeMessage(message)
    } catch (err) {
      this.count('encode-errors')
      this.note(`cannot encode ${ex.type}: ${err instanceof Error ? err.message : String(err)}`)
      return this.arm('exchange', tx.timeoutAt)
    }
    const destination: Destination = ex.unicast !== undefined ? { kind: 'unicast', address: ex.unicast } : { kind: 'multicast' }
    this.count(`sent.${ex.type}`)
    if (tx.retransmission) this.count(`retransmitted.${ex.type}`)
    this.emit({
      kind: 'sent', interface: this.interfaceName, type: ex.type, xid: ex.xid, ias: iaSummaries(message.options),
      elapsedCentiseconds: tx.elapsedCentiseconds, retransmission: tx.retransmission, attempt: tx.attempt,
      destination: destination.kind === 'unicast' ? destination.address : ALL_DHCP_RELAY_AGENTS_AND_SERVERS, bytes: payload.length,
    })
    try {
      const sent = this.options.transport.send(payload, destination)
      if (sent instanceof Promise) sent.catch((err: unknown) => this.sendFailed(err))
    } catch (err) {
      this.sendFailed(err)
    }
    this.arm('exchange', tx.timeoutAt)
  }

  // ---- Replies -----------------------------------------------------------------------------------

  /** Reply to Request, Renew, Rebind (also after a link change) or a Rapid Commit Solicit. */
  private onLeaseReply(message: ClientServerMessage, serverDuid: Duid, from: ReceivedFrom, ex: Exchange): void {
    const status = statusOf(message.options)
    const purpose = ex.purpose
    const iaOptions = [...findOptions(message.options, 'ia-na'), ...findOptions(message.options, 'ia-pd')]
    const notOnLink = status?.code === StatusCode.NotOnLink || iaOptions.some(ia => statusOf(ia.options)?.code === StatusCode.NotOnLink)
    if (notOnLink && (purpose === 'request' || purpose === 'solicit')) return this.notOnLink(purpose === 'request' ? 'Request' : 'Solicit')
    const now = this.clock.now()
    const fresh = purpose === 'request' || purpose === 'solicit'
    const old = this.lease ? this.storedLease() : undefined
    // A different server's lease replaces the one held (its addresses are not ours any more).
    let lease = this.lease
    if (fresh && lease && !duidEquals(lease.serverDuid, serverDuid)) {
      for (const address of this.leasedAddresses()) this.effect('removeAddress', e => e.removeAddress(address))
      lease = undefined
    }
    lease ??= { serverDuid, ias: [], dnsServers: [], domainSearch: [], ntpServers: [] }
    lease.serverDuid = serverDuid
    lease.serverAddress = from.source
    const unicast = findOption(message.options, 'server-unicast')
    if (unicast) lease.serverUnicast = formatIpv6(unicast.address)
    else delete lease.serverUnicast
    this.takeConfiguration(lease, message)
    const key = reconfigureKeyFrom(findOption(message.options, 'authentication'))
    if (key) takeReconfigureKey(lease, key)

    const wanted = new Set(this.configuredIas().map(ia => `${ia.kind}:${ia.iaid}`))
    const updated = new Set<string>()
    let noBinding = false
    const seen = new Set<string>()
    for (const option of iaOptions) {
      const id = `${option.kind}:${option.iaid}`
      if (!wanted.has(id) && !lease.ias.some(ia => `${ia.kind}:${ia.iaid}` === id)) { this.count('ignored.unknown-iaid'); continue }
      if (seen.has(id)) { this.count('ignored.duplicate-iaid'); continue }
      seen.add(id)
      // RFC 8415 sections 21.4/21.21: T1 > T2 (both non-zero) discards the IA.
      if (option.t1 > option.t2 && option.t1 > 0 && option.t2 > 0) { this.count('ignored.ia-t1-greater-than-t2'); continue }
      const iaStatus = statusOf(option.options)
      if (iaStatus && iaStatus.code !== StatusCode.Success) {
        this.count(`status.${iaStatus.name}`)
        if (iaStatus.code === StatusCode.NoBinding && (purpose === 'renew' || purpose === 'rebind' || purpose === 'rebind-confirm')) noBinding = true
        continue
      }
      if (this.mergeIa(lease, option, now)) updated.add(id)
    }
    lease.ias = lease.ias.filter(ia => ia.entries.length > 0)
    // IAs not extended keep their leases; they are retried at the next T1/T2 of those that were
    // (RFC 8415 section 18.2.10.1), never at once, or their deadline moves to the next stage.
    const nextRenew = Math.min(...lease.ias.filter(ia => updated.has(`${ia.kind}:${ia.iaid}`)).map(ia => ia.renewAt))
    const nextRebind = Math.min(...lease.ias.filter(ia => updated.has(`${ia.kind}:${ia.iaid}`)).map(ia => ia.rebindAt))
    for (const ia of lease.ias) {
      if (updated.has(`${ia.kind}:${ia.iaid}`)) continue
      if (ia.renewAt <= now) ia.renewAt = Number.isFinite(nextRenew) ? nextRenew : ia.rebindAt
      if (ia.rebindAt <= now) ia.rebindAt = Number.isFinite(nextRebind) ? nextRebind : Infinity
    }

    this.exchange = undefined
    this.disarm('exchange')
    if (lease.ias.length === 0) {
      this.lease = undefined
      this.disarm('expiry')
      if (old) this.forgetLease()
      // Nothing obtained: try the servers again (RFC 8415 section 18.2.10.1).
      return this.beginSolicit(`${message.type} with no leases`)
    }
    this.lease = lease
    const withdrawn = this.dropEntries(e => e.validLifetime === 0)
    if (withdrawn.length > 0) this.count('lease.withdrawn', withdrawn.length)
    if (!this.lease) return this.beginSolicit(`${message.type} withdrew every lease`)
    if (noBinding) {
      this.count('no-binding')
      return this.beginRequestAfterNoBinding(serverDuid, from.source)
    }
    const reason = fresh ? 'BOUND6' : purpose === 'renew' ? 'RENEW6' : 'REBIND6'
    this.enterBound(reason, old)
  }

  /** Merges one IA from a Reply into the lease; true when it gained or extended a lease. */
  private mergeIa(lease: Lease, option: IaNaOption | IaPdOption, now: number): boolean {
    let held = lease.ias.find(ia => ia.kind === option.kind && ia.iaid === option.iaid)
    if (!held) {
      held = { kind: option.kind, iaid: option.iaid, t1: 0, t2: 0, renewAt: Infinity, rebindAt: Infinity, entries: [] }
      lease.ias.push(held)
    }
    const received: LeaseEntry[] = []
    const subOptions = option.kind === 'ia-na' ? findOptions(option.options, 'ia-address') : findOptions(option.options, 'ia-prefix')
    for (const sub of subOptions) {
      // RFC 8415 sections 21.6/21.22: preferred > valid discards the address or prefix.
      if (sub.preferredLifetime > sub.validLifetime) { this.count('ignored.preferred-greater-than-valid'); continue }
      if (sub.kind === 'ia-prefix' && sub.prefixLength > 128) { this.count('ignored.invalid-prefix-length'); continue }
      const subStatus = statusOf(sub.options)
      if (subStatus && subStatus.code !== StatusCode.Success) { this.count(`status.${subStatus.name}`); continue }
      const value = formatIpv6(sub.kind === 'ia-address' ? sub.address : sub.prefix)
      const entry: LeaseEntry = { value, preferredLifetime: sub.preferredLifetime, validLifetime: sub.validLifetime, since: now }
      if (sub.kind === 'ia-prefix') entry.prefixLength = sub.prefixLength
      received.push(entry)
    }
    let extended = false
    for (const entry of received) {
      const index = held.entries.findIndex(e => e.value === entry.value && e.prefixLength === entry.prefixLength)
      if (entry.validLifetime === 0) {
        // Lifetime 0: the server withdraws it; onLeaseReply drops it like an expired entry.
        if (index >= 0) held.entries[index] = entry
        continue
      }
      if (index >= 0) held.entries[index] = entry
      else held.entries.push(entry)
      extended = true
    }
    if (!extended) return false
    const timers = effectiveTimers(option.t1, option.t2, received.filter(e => e.validLifetime > 0))
    held.t1 = timers.t1
    held.t2 = timers.t2
    held.renewAt = lifetimeEnd(now, timers.t1)
    held.rebindAt = lifetimeEnd(now, timers.t2)
    return true
  }

  private onInformationReply(message: ClientServerMessage, serverDuid: Duid, ex: Exchange): void {
    this.exchange = undefined
    this.disarm('exchange')
    const key = reconfigureKeyFrom(findOption(message.options, 'authentication'))
    if (ex.returnToBound && this.lease) {
      this.takeConfiguration(this.lease, message)
      this.effect('applyDns', e => e.applyDns(this.dnsOf(this.lease as Lease)))
      this.hook({ reason: 'INFORM6', lease: this.storedLease() })
      return this.resumeBound('Reply to Information-request', false)
    }
    const refresh = findOption(message.options, 'information-refresh-time')?.seconds
    // RFC 8415 section 21.23: default IRT_DEFAULT, never below IRT_MINIMUM, 0xFFFFFFFF = never.
    const refreshSeconds = refresh === undefined ? this.profile.IRT_DEFAULT : refresh === INFINITE_LIFETIME ? INFINITE_LIFETIME : Math.max(refresh, this.profile.IRT_MINIMUM)
    const stateless: Stateless = { dnsServers: [], domainSearch: [], ntpServers: [], refreshSeconds, serverDuid }
    this.takeConfiguration(stateless, message)
    // A Reply without a key keeps the one this server gave before (RFC 8415 section 20.4.1: a
    // server picks the key once and need not repeat it); another server's key is of no use here.
    const previous = this.stateless
    if (previous?.reconfigureKey && previous.serverDuid && duidEquals(previous.serverDuid, serverDuid)) {
      stateless.reconfigureKey = previous.reconfigureKey
      if (previous.lastReplayDetection !== undefined) stateless.lastReplayDetection = previous.lastReplayDetection
    }
    if (key) takeReconfigureKey(stateless, key)
    this.stateless = stateless
    this.effect('applyDns', e => e.applyDns(this.dnsOf(stateless)))
    this.hook({ reason: 'INFORM6' })
    this.setState('informed', 'Reply to Information-request')
    if (refreshSeconds !== INFINITE_LIFETIME) this.arm('refresh', this.clock.now() + refreshSeconds * S)
  }

  private onReconfigure(message: ClientServerMessage, raw: Uint8Array, from: ReceivedFrom): void {
    const drop = (reason: string) => this.dropReceived('reconfigure', message.transactionId, iaSummaries(message.options), from, `reconfigure-${reason}`)
    if (!this.options.reconfigureAccept) return drop('not-accepted')
    // RFC 8415 section 18.2.11: discarded while an exchange runs, and outside a binding.
    if (this.currentState !== 'bound' && this.currentState !== 'informed') return drop('busy')
    if (from.toMulticast) return drop('not-unicast')
    const clientId = findOption(message.options, 'client-id')
    if (!clientId || !duidEquals(clientId.duid, this.options.clientDuid)) return drop('client-id')
    const keyHolder = this.currentState === 'bound' ? this.lease : this.stateless
    const serverId = findOption(message.options, 'server-id')
    if (!serverId || !keyHolder?.serverDuid || !duidEquals(serverId.duid, keyHolder.serverDuid)) return drop('server-id')
    const requested = findOption(message.options, 'reconfigure-message')?.msgType
    const allowed = this.currentState === 'bound' ? [MessageType.renew, MessageType.rebind, MessageType['information-request']] : [MessageType['information-request']]
    if (requested === undefined || !allowed.includes(requested as 5 | 6 | 11)) return drop('message-type')
    // RFC 3315 section 15.11 (and RFC 8415 section 16.11): no IA options with Information-request.
    if (requested === MessageType['information-request'] && message.options.some(o => o.kind === 'ia-na' || o.kind === 'ia-ta' || o.kind === 'ia-pd')) {
      return drop('ia-with-information-request')
    }
    const auth = findOption(message.options, 'authentication')
    if (!auth || !isRkap(auth) || auth.info.format !== 'rkap' || auth.info.type !== 2 || !keyHolder.reconfigureKey) return drop('unauthenticated')
    if (!verifyReconfigure(raw, keyHolder.reconfigureKey)) return drop('bad-hmac')
    if (keyHolder.lastReplayDetection !== undefined && auth.replayDetection <= keyHolder.lastReplayDetection) return drop('replayed')
    keyHolder.lastReplayDetection = auth.replayDetection
    // Persisted before acting on it: after a restart, a captured older Reconfigure must still be
    // refused (RFC 8415 section 20.3). A stateless client keeps no state across restarts.
    if (keyHolder === this.lease) {
      const stored = this.storedLease()
      this.effect('saveLease', e => e.saveLease(stored))
    }
    this.count('received.reconfigure')
    this.emit({ kind: 'received', interface: this.interfaceName, type: 'reconfigure', xid: message.transactionId, ias: iaSummaries(message.options), source: from.source, accepted: true })
    // RFC 8415 section 21.7: an ORO in a Reconfigure names options to ask for in the answer.
    const answering: ReconfigureAnswer = { serverDuid: serverId.duid, optionCodes: findOption(message.options, 'oro')?.codes ?? [] }
    if (requested === MessageType.renew) return this.beginRenew('Reconfigure', answering)
    if (requested === MessageType.rebind) return this.beginRebind('Reconfigure', answering)
    return this.beginInformationRequest('Reconfigure', this.currentState === 'bound', answering)
  }

  private useMulticast(ex: Exchange): void {
    // RFC 8415 section 18.2.10: resend to multicast now, and from now on.
    this.count('use-multicast')
    if (this.lease) delete this.lease.serverUnicast
    delete ex.unicast
    this.transmit(ex)
  }

  private notOnLink(after: string): void {
    this.count('not-on-link')
    this.exchange = undefined
    this.disarm('exchange')
    // RFC 8415 section 18.2.10.1: none of the leases can be used on this link any more.
    this.dropEntries(() => true)
    this.disarm('renew'); this.disarm('rebind')
    this.beginSolicit(`NotOnLink in Reply to ${after}`)
  }

  private afterDecline(why: string): void {
    this.exchange = undefined
    this.disarm('exchange')
    if (!this.lease || this.lease.ias.every(ia => ia.entries.length === 0)) {
      this.lease = undefined
      this.forgetLease()
      return this.beginSolicit(`${why}: nothing left`)
    }
    this.resumeBound(why, false)
  }

  private finishRelease(): void {
    if (this.exchange?.purpose === 'release') {
      this.exchange = undefined
      this.disarm('exchange')
    }
    if (this.lease || this.currentState === 'releasing') {
      this.lease = undefined
      this.forgetLease()
      this.disarm('expiry')
      this.active = undefined
      this.setState('idle', 'released')
    }
    const waiters = this.releaseWaiters
    this.releaseWaiters = []
    for (const resolve of waiters) resolve()
  }

  // ---- Bound -------------------------------------------------------------------------------------

  private enterBound(reason: 'BOUND6' | 'RENEW6' | 'REBIND6', old: StoredLease | undefined): void {
    const lease = this.lease as Lease
    this.applyLease(lease)
    const stored = this.storedLease()
    this.effect('saveLease', e => e.saveLease(stored))
    this.hook({ reason, lease: stored, ...(old ? { old } : {}) })
    const prefixes = lease.ias.filter(ia => ia.kind === 'ia-pd').flatMap(ia => ia.entries.map(e => entryLabel(ia, e)))
    const oldPrefixes = [...(old?.iaPd ?? [])].flatMap(ia => ia.prefixes.map(p => `${p.prefix}/${p.length}`))
    if (prefixes.length > 0 && (reason === 'BOUND6' || prefixes.some(p => !oldPrefixes.includes(p)))) {
      this.hook({ reason: 'DELEGATED6', lease: stored, prefixes })
    }
    this.setState('bound', reason)
    this.armLeaseTimers()
  }

  /** Back to Bound without a new Reply (Confirm, Decline over): T1/T2 as they were. */
  private resumeBound(why: string, reapply: boolean, hook?: 'BOUND6'): void {
    const lease = this.lease
    this.exchange = undefined
    this.disarm('exchange')
    if (!lease) return this.beginSolicit(why)
    if (reapply) this.applyLease(lease)
    const stored = this.storedLease()
    this.effect('saveLease', e => e.saveLease(stored))
    if (hook) this.hook({ reason: hook, lease: stored })
    this.setState('bound', why)
    this.armLeaseTimers()
  }

  private applyLease(lease: Lease): void {
    const now = this.clock.now()
    for (const ia of lease.ias) {
      if (ia.kind !== 'ia-na') continue
      for (const e of ia.entries) {
        const address = { address: e.value, preferredLifetime: secondsLeft(e.since, e.preferredLifetime, now), validLifetime: secondsLeft(e.since, e.validLifetime, now) }
        this.effect('applyAddress', fx => fx.applyAddress(address))
      }
    }
    this.effect('applyDns', e => e.applyDns(this.dnsOf(lease)))
  }

  private armLeaseTimers(): void {
    this.arm('renew', this.earliest(ia => ia.renewAt))
    this.arm('rebind', this.earliest(ia => ia.rebindAt))
    this.armExpiry()
  }

  private armExpiry(): void {
    if (this.lease) this.arm('expiry', earliestValidEnd(this.lease))
    else this.disarm('expiry')
  }

  /** Removes every entry whose valid lifetime has ended (all of them when `all`). */
  private expireEntries(all = false): void {
    if (!this.lease) return
    const now = this.clock.now()
    const expired = this.dropEntries(e => all || validEnd(e) <= now)
    if (expired.length > 0) this.count('lease.expired', expired.length)
    if (this.lease) return this.armExpiry()
    if (this.currentState === 'releasing') return this.finishRelease()
    this.cancelExchange()
    this.disarm('renew'); this.disarm('rebind')
    // RFC 8415 section 18.2.5: with every lease gone, start over.
    if (this.active === 'stateful' && this.linkUp && this.currentState !== 'stopped') return this.beginSolicit('leases expired')
    if (this.currentState !== 'stopped' && this.currentState !== 'idle') this.setState('idle', 'leases expired')
  }

  /**
   * The one way entries leave a lease that stays in use or ends without a Release (valid lifetime
   * over, Rebind given up, NotOnLink, withdrawn with lifetime 0): IA_NA addresses leave the
   * interface and one EXPIRE6 names every entry dropped, addresses and delegated prefixes alike,
   * with what is left of the lease. That rest is saved; with nothing left the lease is forgotten.
   * Returns the labels dropped ("ADDRESS" or "PREFIX/LEN").
   */
  private dropEntries(gone: (e: LeaseEntry) => boolean): string[] {
    const lease = this.lease
    if (!lease) return []
    const dropped: string[] = []
    for (const ia of lease.ias) {
      ia.entries = ia.entries.filter(e => {
        if (!gone(e)) return true
        dropped.push(entryLabel(ia, e))
        if (ia.kind === 'ia-na') this.effect('removeAddress', fx => fx.removeAddress(e.value))
        return false
      })
    }
    lease.ias = lease.ias.filter(ia => ia.entries.length > 0)
    const rest = lease.ias.length > 0 ? this.storedLease() : undefined
    if (dropped.length > 0) {
      this.hook({ reason: 'EXPIRE6', addresses: dropped, ...(rest ? { lease: rest } : {}) })
      if (rest) this.effect('saveLease', e => e.saveLease(rest))
    }
    if (!rest) {
      this.lease = undefined
      this.disarm('expiry')
      this.forgetLease()
    }
    return dropped
  }

  // ---- Helpers -------------------------------------------------------------------------------------

  private takeFromLease(address: string): { iaid: number; server: { duid: Duid; unicast?: string } } | undefined {
    const lease = this.lease
    if (!lease) return undefined
    for (const ia of lease.ias) {
      if (ia.kind !== 'ia-na') continue
      const index = ia.entries.findIndex(e => e.value === address)
      if (index < 0) continue
      ia.entries.splice(index, 1)
      lease.ias = lease.ias.filter(x => x.entries.length > 0 || x === ia)
      return { iaid: ia.iaid, server: { duid: lease.serverDuid, ...(lease.serverUnicast !== undefined ? { unicast: lease.serverUnicast } : {}) } }
    }
    return undefined
  }

  private offersSomething(message: ClientServerMessage): boolean {
    // RFC 8415 section 18.2.9: an Advertise with no addresses and no delegated prefixes (every
    // IA NoAddrsAvail/NoPrefixAvail) is ignored; so is one whose message status says so.
    const status = statusOf(message.options)?.code
    if (status === StatusCode.NoAddrsAvail || status === StatusCode.NoPrefixAvail) return false
    const wanted = new Set(this.configuredIas().map(ia => `${ia.kind}:${ia.iaid}`))
    for (const ia of [...findOptions(message.options, 'ia-na'), ...findOptions(message.options, 'ia-pd')]) {
      if (!wanted.has(`${ia.kind}:${ia.iaid}`)) continue
      const iaStatus = statusOf(ia.options)?.code
      if (iaStatus !== undefined && iaStatus !== StatusCode.Success) continue
      const entries = ia.kind === 'ia-na' ? findOptions(ia.options, 'ia-address') : findOptions(ia.options, 'ia-prefix')
      if (entries.some(e => e.validLifetime > 0 && e.preferredLifetime <= e.validLifetime)) return true
    }
    return false
  }

  private applyServerMaxRt(message: ClientServerMessage): void {
    for (const [kind, name] of [['sol-max-rt', 'SOL_MAX_RT'], ['inf-max-rt', 'INF_MAX_RT']] as const) {
      const option = findOption(message.options, kind)
      if (!option) continue
      const result = applyServerMaxRt(this.profile, name, option.seconds)
      if (!result.accepted) {
        this.count(`ignored.${kind}-out-of-range`)
        this.note(result.reason)
        continue
      }
      this.profile = result.profile
      this.count(`applied.${kind}`)
      const ex = this.exchange
      const applies = kind === 'sol-max-rt' ? ex?.purpose === 'solicit' : ex?.purpose === 'information-request'
      if (ex && applies) ex.rtx.setMaxRetransmissionTime(option.seconds * S)
    }
  }

  private takeConfiguration(target: { dnsServers: string[]; domainSearch: string[]; ntpServers: string[] }, message: ClientServerMessage): void {
    const dns = findOption(message.options, 'dns-servers')
    if (dns) target.dnsServers = dns.servers.map(formatIpv6)
    const domains = findOption(message.options, 'domain-list')
    if (domains) target.domainSearch = domains.domains.map(d => (d.endsWith('.') && !d.endsWith('\\.') ? d.slice(0, -1) : d))
    const ntp = findOption(message.options, 'ntp-server')
    if (ntp) {
      target.ntpServers = ntp.suboptions.flatMap(s => (s.type === 'server-address' || s.type === 'multicast-address' ? [formatIpv6(s.address)] : s.type === 'fqdn' ? [s.name] : []))
    }
  }

  private dnsOf(config: { dnsServers: string[]; domainSearch: string[]; ntpServers: string[] }) {
    return { servers: [...config.dnsServers], search: [...config.domainSearch], ntp: [...config.ntpServers] }
  }

  private configuredIas(): IaInMessage[] {
    return [
      ...this.spec.iaNa.map(iaid => ({ kind: 'ia-na' as const, iaid, entries: [] })),
      ...this.spec.iaPd.map(pd => ({ kind: 'ia-pd' as const, iaid: pd.iaid, entries: [], ...(pd.prefixLength !== undefined ? { prefixLengthHint: pd.prefixLength } : {}) })),
    ]
  }

  /** Renew/Rebind: every configured IA, with the leases held in it (RFC 8415 sections 18.2.4/18.2.5). */
  private renewalIas(): IaInMessage[] {
    const held = this.lease?.ias ?? []
    const out = this.configuredIas().map(ia => {
      const mine = held.find(l => l.kind === ia.kind && l.iaid === ia.iaid)
      return mine ? iaInMessage(mine) : ia
    })
    for (const ia of held) if (!out.some(o => o.kind === ia.kind && o.iaid === ia.iaid)) out.push(iaInMessage(ia))
    return out
  }

  private earliest(pick: (ia: LeaseIa) => number): number {
    return Math.min(...(this.lease?.ias ?? []).map(pick))
  }

  private leasedAddresses(): string[] {
    return (this.lease?.ias ?? []).filter(ia => ia.kind === 'ia-na').flatMap(ia => ia.entries.map(e => e.value))
  }

  private storedLease(): StoredLease {
    return toStoredLease(this.interfaceName, this.lease as Lease, this.clock.now(), this.wallClock())
  }

  private forgetLease(): void {
    this.effect('removeLease', e => e.removeLease())
    this.effect('clearDns', e => e.clearDns())
  }

  private messageSettings(): MessageSettings {
    return {
      clientDuid: this.options.clientDuid, dns: this.spec.dns, ntp: this.options.requestNtp ?? true,
      rapidCommit: this.options.rapidCommit ?? false, reconfigureAccept: this.options.reconfigureAccept ?? false,
    }
  }

  /** After stop or a link change, the next Solicit / Information-request is a first one again (initial delay). */
  private forgetFirstMessages(): void {
    this.firstSolicitSent = false
    this.firstInformationRequestSent = false
  }

  private cancelExchange(): void {
    this.exchange = undefined
    this.advertises = []
    this.disarm('exchange')
  }

  private arm(kind: TimerKind, at: number): void {
    this.disarm(kind)
    if (!Number.isFinite(at)) return
    this.timers.set(kind, this.clock.setTimer(at - this.clock.now(), () => {
      this.timers.delete(kind)
      this.handle({ type: 'timer', timer: kind })
    }))
  }

  private disarm(kind: TimerKind): void {
    const handle = this.timers.get(kind)
    if (handle) this.clock.clearTimer(handle)
    this.timers.delete(kind)
  }

  private disarmAll(): void {
    for (const kind of [...this.timers.keys()]) this.disarm(kind)
  }

  private setState(to: ClientState, why: string): void {
    const from = this.currentState
    this.currentState = to
    if (from !== to) this.emit({ kind: 'state', interface: this.interfaceName, from, to, why })
  }

  /**
   * Queues an effect. Effects run one at a time in the order issued: a synchronous one runs at
   * once, an async one holds the queue until it settles. Failures are counted, never thrown.
   */
  private effect(name: string, run: (effects: ClientEffects) => void | Promise<void>): void {
    this.effectQueue.push({ name, run })
    if (!this.effectRunning) this.drainEffects()
  }

  private drainEffects(): void {
    this.effectRunning = true
    for (let job = this.effectQueue.shift(); job; job = this.effectQueue.shift()) {
      const { name } = job
      let result: void | Promise<void>
      try {
        result = job.run(this.options.effects)
      } catch (err) {
        this.effectFailed(name, err)
        continue
      }
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.effectFailed(name, err)).finally(() => this.drainEffects())
        return
      }
    }
    this.effectRunning = false
    const waiters = this.effectsIdle
    this.effectsIdle = []
    for (const waiter of waiters) waiter()
  }

  /** Runs `then` once every effect issued so far has run (at once when none is pending). */
  private afterEffects(then: () => void): void {
    if (!this.effectRunning && this.effectQueue.length === 0) return then()
    this.effectsIdle.push(then)
  }

  private effectFailed(name: string, err: unknown): void {
    this.count('effect-errors')
    this.emit({ kind: 'effect-error', interface: this.interfaceName, effect: name, error: err instanceof Error ? err.message : String(err) })
  }

  private hook(notice: HookNotice): void {
    this.effect(`hook ${notice.reason}`, e => e.hook(notice))
  }

  private sendFailed(err: unknown): void {
    this.count('send-errors')
    this.emit({ kind: 'effect-error', interface: this.interfaceName, effect: 'send', error: err instanceof Error ? err.message : String(err) })
  }

  private dropReceived(type: string, xid: number | undefined, ias: IaSummary[], from: ReceivedFrom, reason: string): void {
    this.count(`dropped.${reason}`)
    this.emit({ kind: 'received', interface: this.interfaceName, type, ...(xid !== undefined ? { xid } : {}), ias, source: from.source, accepted: false, reason })
  }

  private count(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by
  }

  private note(message: string): void {
    this.emit({ kind: 'note', interface: this.interfaceName, message })
  }

  private emit(event: ClientEvent): void {
    this.options.onEvent?.(event)
  }
}

function isClientServer(message: Message): message is ClientServerMessage {
  return message.type !== 'unknown' && message.type !== 'relay-forw' && message.type !== 'relay-repl'
}

/** Every entry of the lease, IA_NA addresses and delegated prefixes, as the hooks name them. */
function leaseLabels(lease: Lease): string[] {
  return lease.ias.flatMap(ia => ia.entries.map(e => entryLabel(ia, e)))
}

function iaInMessage(ia: LeaseIa): IaInMessage {
  return { kind: ia.kind, iaid: ia.iaid, entries: ia.entries.map(e => ({ value: e.value, ...(e.prefixLength !== undefined ? { prefixLength: e.prefixLength } : {}) })) }
}

function iaFromOption(ia: IaNaOption | IaPdOption): IaInMessage {
  if (ia.kind === 'ia-na') return { kind: 'ia-na', iaid: ia.iaid, entries: findOptions(ia.options, 'ia-address').map(a => ({ value: formatIpv6(a.address) })) }
  return { kind: 'ia-pd', iaid: ia.iaid, entries: findOptions(ia.options, 'ia-prefix').map(p => ({ value: formatIpv6(p.prefix), prefixLength: p.prefixLength })) }
}

function checkSpec(spec: StartSpec): StartSpec {
  if (spec.mode !== 'stateful' && spec.mode !== 'stateless') throw new UsageError(`start mode must be 'stateful' or 'stateless', got '${String(spec.mode)}'`)
  const ids = [...spec.iaNa, ...spec.iaPd.map(pd => pd.iaid)]
  for (const iaid of ids) if (!Number.isInteger(iaid) || iaid < 0 || iaid > 0xffffffff) throw new UsageError(`IAID ${iaid} is not a 32-bit unsigned integer: use iaid=N with 0 <= N <= 4294967295`)
  if (new Set(spec.iaNa).size !== spec.iaNa.length || new Set(spec.iaPd.map(pd => pd.iaid)).size !== spec.iaPd.length) throw new UsageError('the same IAID is given twice for one IA type: give each IA_NA and each IA_PD its own iaid=N')
  for (const pd of spec.iaPd) {
    if (pd.prefixLength !== undefined && !(Number.isInteger(pd.prefixLength) && pd.prefixLength >= 1 && pd.prefixLength <= 128)) throw new UsageError(`prefix length hint ${pd.prefixLength} is not 1..128: use e.g. prefix iaid=N len=56`)
  }
  if (spec.mode === 'stateful' && ids.length === 0) throw new UsageError('stateful start needs at least one IA: use `start iana iaid=N` or `start prefix iaid=N`, or `start inforeq` for stateless')
  return { ...spec, iaNa: [...spec.iaNa], iaPd: spec.iaPd.map(pd => ({ ...pd })) }
}
