// Test bench for the client machine: virtual clock, scripted or seeded randomness, a transport
// that records what goes on the wire (decoded with the codec), effects that record their calls,
// and server messages built with the codec as answers to what the client sent.
import type { StartSpec } from '../../../../src/client/api.js'
import { SeededRandom, VirtualClock, type Random } from '../../../../src/client/clock.js'
import { ClientMachine, type ClientMachineOptions } from '../../../../src/client/machine/machine.js'
import type { ClientEffects, ClientEvent, Destination, HookNotice } from '../../../../src/client/machine/ports.js'
import { profile, type ProfileName } from '../../../../src/client/profiles.js'
import { decodeMessage, encodeMessage, findOption, findOptions, parseIpv6 } from '../../../../src/dhcpv6/index.js'
import type { ClientServerMessage, Duid, Option } from '../../../../src/dhcpv6/model.js'
import type { StoredLease } from '../../../../src/state/lease-store.js'

export const CLIENT_DUID: Duid = { type: 'll', hardwareType: 1, linkLayerAddress: Uint8Array.from([2, 0, 0, 0, 0, 1]) }
export const SERVER_DUID: Duid = { type: 'll', hardwareType: 1, linkLayerAddress: Uint8Array.from([2, 0, 0, 0, 0, 0xaa]) }
export const OTHER_SERVER_DUID: Duid = { type: 'll', hardwareType: 1, linkLayerAddress: Uint8Array.from([2, 0, 0, 0, 0, 0xbb]) }
export const SERVER_LL = 'fe80::aa'
export const START_MS = 100_000

export interface Sent {
  at: number
  message: ClientServerMessage
  destination: Destination
}

export type EffectCall =
  | { at: number; effect: 'applyAddress'; address: string; preferred: number; valid: number }
  | { at: number; effect: 'removeAddress'; address: string }
  | { at: number; effect: 'applyDns'; servers: string[]; search: string[] }
  | { at: number; effect: 'clearDns' }
  | { at: number; effect: 'saveLease'; lease: StoredLease }
  | { at: number; effect: 'removeLease' }
  | { at: number; effect: 'hook'; notice: HookNotice }

export const STATEFUL_NA: StartSpec = { mode: 'stateful', iaNa: [1], iaPd: [], dns: true }

export interface Bench {
  clock: VirtualClock
  machine: ClientMachine
  sent: Sent[]
  effects: EffectCall[]
  events: ClientEvent[]
  /** Sends of one message type. */
  sentOf(type: string): Sent[]
  last(): Sent
  hooks(): string[]
  /** The lease of the last saveLease effect. */
  savedLease(): StoredLease | undefined
  /** Delivers a server message (encoded bytes) as received from `source`. */
  deliver(bytes: Uint8Array, source?: string, toMulticast?: boolean): void
  counter(name: string): number
  settle(): Promise<void>
}

export function bench(overrides: Partial<ClientMachineOptions> & { profileName?: ProfileName; random?: Random } = {}): Bench {
  const clock = new VirtualClock(START_MS)
  const sent: Sent[] = []
  const effects: EffectCall[] = []
  const events: ClientEvent[] = []
  const recorder: ClientEffects = {
    applyAddress: a => { effects.push({ at: clock.now(), effect: 'applyAddress', address: a.address, preferred: a.preferredLifetime, valid: a.validLifetime }) },
    removeAddress: address => { effects.push({ at: clock.now(), effect: 'removeAddress', address }) },
    applyDns: d => { effects.push({ at: clock.now(), effect: 'applyDns', servers: d.servers, search: d.search }) },
    clearDns: () => { effects.push({ at: clock.now(), effect: 'clearDns' }) },
    saveLease: lease => { effects.push({ at: clock.now(), effect: 'saveLease', lease }) },
    removeLease: () => { effects.push({ at: clock.now(), effect: 'removeLease' }) },
    hook: notice => { effects.push({ at: clock.now(), effect: 'hook', notice }) },
  }
  const { profileName, ...rest } = overrides
  const machine = new ClientMachine({
    interfaceName: 'eth0',
    clientDuid: CLIENT_DUID,
    transport: {
      send: (payload, destination) => {
        sent.push({ at: clock.now(), message: decodeMessage(payload) as ClientServerMessage, destination })
      },
    },
    effects: recorder,
    clock,
    random: new SeededRandom(7),
    defaultSpec: STATEFUL_NA,
    wallClock: () => 1_700_000_000_000 + clock.now(),
    onEvent: e => events.push(e),
    ...(profileName ? { profile: profile(profileName) } : {}),
    ...rest,
  })
  return {
    clock, machine, sent, effects, events,
    sentOf: type => sent.filter(s => s.message.type === type),
    last: () => {
      const s = sent[sent.length - 1]
      if (!s) throw new Error('nothing sent yet')
      return s
    },
    hooks: () => effects.flatMap(e => (e.effect === 'hook' ? [e.notice.reason] : [])),
    savedLease: () => effects.flatMap(e => (e.effect === 'saveLease' ? [e.lease] : [])).pop(),
    deliver: (bytes, source = SERVER_LL, toMulticast = false) => machine.receive(bytes, { source, toMulticast }),
    counter: name => machine.status().counters[name] ?? 0,
    settle: () => machine.settled(),
  }
}

// ---- Server messages ------------------------------------------------------------------------------

export function addr(text: string): Uint8Array {
  const a = parseIpv6(text)
  if (!a) throw new Error(`bad address ${text}`)
  return a
}

export function status(code: number, message = ''): Option {
  return { kind: 'status-code', status: code, message }
}

export function iaNa(iaid: number, t1: number, t2: number, addresses: [string, number, number][], extra: Option[] = []): Option {
  return {
    kind: 'ia-na', iaid, t1, t2,
    options: [...addresses.map(([a, preferred, valid]): Option => ({ kind: 'ia-address', address: addr(a), preferredLifetime: preferred, validLifetime: valid, options: [] })), ...extra],
  }
}

export function iaPd(iaid: number, t1: number, t2: number, prefixes: [string, number, number, number][], extra: Option[] = []): Option {
  return {
    kind: 'ia-pd', iaid, t1, t2,
    options: [...prefixes.map(([p, length, preferred, valid]): Option => ({ kind: 'ia-prefix', prefix: addr(p), prefixLength: length, preferredLifetime: preferred, validLifetime: valid, options: [] })), ...extra],
  }
}

export interface ServerMessageSpec {
  server?: Duid | null
  client?: Duid | null
  xid?: number
  options?: Option[]
}

/** A server message answering `to` (same xid, our Client ID, the server's ID) unless told otherwise. */
export function answer(type: 'advertise' | 'reply' | 'reconfigure', to: ClientServerMessage | undefined, spec: ServerMessageSpec = {}): Uint8Array {
  const options: Option[] = []
  const client = spec.client === undefined ? (to ? findOption(to.options, 'client-id')?.duid : CLIENT_DUID) : spec.client
  if (client) options.push({ kind: 'client-id', duid: client })
  const server = spec.server === undefined ? SERVER_DUID : spec.server
  if (server) options.push({ kind: 'server-id', duid: server })
  options.push(...(spec.options ?? []))
  return encodeMessage({ type, transactionId: spec.xid ?? to?.transactionId ?? 0, options })
}

export const NA1: [string, number, number] = ['2001:db8::100', 3000, 4000]

/** The standard lease Reply: IA_NA 1 with NA1, T1 1000 s, T2 1600 s, DNS. */
export function leaseReply(to: ClientServerMessage, extra: Option[] = [], t1 = 1000, t2 = 1600): Uint8Array {
  return answer('reply', to, {
    options: [iaNa(1, t1, t2, [NA1]), { kind: 'dns-servers', servers: [addr('2001:db8::53')] }, { kind: 'domain-list', domains: ['example.com.'] }, ...extra],
  })
}

/** Drives a bench to Bound on IA_NA 1 (Solicit, Advertise, Request, Reply); returns the Reply time. */
export function bind(b: Bench, replyExtra: Option[] = [], t1 = 1000, t2 = 1600): number {
  b.machine.start(STATEFUL_NA)
  b.clock.advance(1000) // past any initial delay (SOL_MAX_DELAY 1 s)
  const solicit = b.sentOf('solicit')[0]
  if (!solicit) throw new Error('no Solicit')
  b.deliver(answer('advertise', solicit.message, { options: [{ kind: 'preference', value: 255 }, iaNa(1, t1, t2, [NA1])] }))
  const request = b.sentOf('request')[0]
  if (!request) throw new Error('no Request')
  b.deliver(leaseReply(request.message, replyExtra, t1, t2))
  if (b.machine.state !== 'bound') throw new Error(`not bound: ${b.machine.state}`)
  return b.clock.now()
}

export function iaids(message: ClientServerMessage): string[] {
  return [...findOptions(message.options, 'ia-na'), ...findOptions(message.options, 'ia-pd')].map(ia => `${ia.kind}:${ia.iaid}`)
}

export function elapsed(message: ClientServerMessage): number | undefined {
  return findOption(message.options, 'elapsed-time')?.hundredths
}
